"""The clock of the bot: APScheduler jobs built from config at start-up, and the delivery.

Jobs only plan and write to the database; they never talk to a messenger directly
(DESIGN.md). :class:`Clockwork` starts and stops, together: the scheduler (a calendar tick every
minute, the nightly housekeeping), the :class:`~scheduler.planner.Planner` it drives, and the
:class:`~scheduler.dispatcher.Dispatcher` that delivers the outbox through the channels'
senders. At start-up the calendar's overrides are resolved (an unknown area stops the bot with
a message naming the setting) and one tick runs at once, so a reminder time missed while the
bot was down is caught up if it is still relevant.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from common.config import Config
from scheduler.dispatcher import Dispatcher, Sender
from scheduler.planner import Planner
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


def build_scheduler(db: Database, config: Config, planner: Planner | None = None
                    ) -> AsyncIOScheduler:
    """One scheduler, explicit time zone, generous misfire grace; start it in the event loop."""
    scheduler = AsyncIOScheduler(
        timezone=config.timezone,
        job_defaults={"coalesce": True, "misfire_grace_time": 3600, "max_instances": 1},
    )
    scheduler.add_job(
        forget_old_inbound, CronTrigger(hour=3, minute=17, timezone=config.timezone),
        args=(db, config), id="forget_old_inbound", replace_existing=True,
    )
    if planner is not None:
        # Every minute: cheap (the calendar is computed, not queried), and a reminder time
        # configured at any minute goes out at that minute.
        scheduler.add_job(
            planner.tick, CronTrigger(minute="*", timezone=config.timezone),
            id="calendar_tick", replace_existing=True,
        )
    return scheduler


class Clockwork:
    """The scheduler, the planner and the dispatcher, started and stopped together."""

    def __init__(self, db: Database, config: Config, senders: dict[str, Sender],
                 clock: Callable[[], datetime] | None = None):
        self.planner = Planner(db, config, clock)
        self.dispatcher = Dispatcher(db, config, senders, clock)
        self.scheduler = build_scheduler(db, config, self.planner)
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        """Check the calendar against the areas, catch up, start the jobs and the delivery."""
        await self.planner.resolve()
        planned = await self.planner.tick()
        if planned:
            log.info("calendar: %d campaigns planned at start-up", len(planned))
        self.scheduler.start()
        self._task = asyncio.create_task(self.dispatcher.run(self._stop), name="dispatcher")

    async def stop(self) -> None:
        """Stop the jobs; let the messages in flight finish."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None
