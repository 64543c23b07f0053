"""The clock of the bot: APScheduler jobs built from config at start-up.

For now one housekeeping job; the reporting calendar (reminders through an outbox) comes next.
Jobs only plan and write to the database; they never talk to a messenger directly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.config import Config
from storage.db import Database
from storage.inbound import forget_before

log = logging.getLogger(__name__)


async def forget_old_inbound(
    db: Database, config: Config, clock: Callable[[], datetime] | None = None
) -> int:
    """Drop redelivery records older than ``inbound_dedup_days``; return how many."""
    now = (clock or (lambda: datetime.now(UTC)))()
    async with db.write() as conn:
        removed = await forget_before(conn, now - timedelta(days=config.inbound_dedup_days))
    log.info("forgot %d old inbound message ids", removed)
    return removed


def build_scheduler(db: Database, config: Config) -> AsyncIOScheduler:
    """One scheduler, explicit time zone, generous misfire grace; start it in the event loop."""
    scheduler = AsyncIOScheduler(
        timezone=config.timezone,
        job_defaults={"coalesce": True, "misfire_grace_time": 3600, "max_instances": 1},
    )
    scheduler.add_job(
        forget_old_inbound, CronTrigger(hour=3, minute=17, timezone=config.timezone),
        args=(db, config), id="forget_old_inbound", replace_existing=True,
    )
    return scheduler
