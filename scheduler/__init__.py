"""The clock of the bot: APScheduler jobs built from config at start-up, and the delivery.

Jobs only plan and write to the database; they never talk to a messenger directly
(DESIGN.md). :class:`Clockwork` starts and stops, together: the scheduler (a calendar tick every
minute, the nightly housekeeping), the :class:`~scheduler.planner.Planner` it drives, and the
:class:`~scheduler.dispatcher.Dispatcher` that delivers the outbox through the channels'
senders. At start-up the calendar's overrides are resolved (an unknown area stops the bot with
a message naming the setting) and one tick runs at once, so a reminder time missed while the
bot was down is caught up if it is still relevant.

A tick that meets a passing database fault (a lock held longer than ``busy_timeout``, a disk
I/O error, a full disk) is tried again with a growing pause until the next minute's tick takes
over; nothing is lost meanwhile (a tick plans every event since the last tick that went
through, each once by its key). Failures are logged at once and shown by ``python -m bot
health``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from common.config import Config
from scheduler.dispatcher import Dispatcher, Sender
from scheduler.planner import Planner
from storage.db import Database, is_transient
from storage.health import LoopHealth
from storage.inbound import forget_before

log = logging.getLogger(__name__)

TICK_RETRY_FIRST = 1.0  # seconds before a failed tick is tried again (then doubling)
TICK_RETRY_FOR = 45.0  # a failing tick is tried again for so long; then the next one's turn


async def forget_old_inbound(
    db: Database, config: Config, clock: Callable[[], datetime] | None = None
) -> int:
    """Drop redelivery records older than ``inbound_dedup_days``; return how many."""
    now = (clock or (lambda: datetime.now(UTC)))()
    async with db.write() as conn:
        removed = await forget_before(conn, now - timedelta(days=config.inbound_dedup_days))
    log.info("forgot %d old inbound message ids", removed)
    return removed


def build_scheduler(db: Database, config: Config, planner: Planner | None = None, *,
                    tick: Callable[[], Awaitable[object]] | None = None,
                    housekeeping: Callable[[], Awaitable[object]] | None = None,
                    ) -> AsyncIOScheduler:
    """One scheduler, explicit time zone, generous misfire grace; start it in the event loop.
    ``tick`` and ``housekeeping`` replace ``planner.tick`` and :func:`forget_old_inbound` as
    the jobs (:class:`Clockwork`'s, which survive database faults)."""
    scheduler = AsyncIOScheduler(
        timezone=config.timezone,
        job_defaults={"coalesce": True, "misfire_grace_time": 3600, "max_instances": 1},
    )
    scheduler.add_job(
        housekeeping or forget_old_inbound,
        CronTrigger(hour=3, minute=17, timezone=config.timezone),
        args=() if housekeeping else (db, config), id="forget_old_inbound",
        replace_existing=True,
    )
    if planner is not None or tick is not None:
        # Every minute: cheap (the calendar is computed, not queried), and a reminder time
        # configured at any minute goes out at that minute.
        scheduler.add_job(
            tick or planner.tick, CronTrigger(minute="*", timezone=config.timezone),
            id="calendar_tick", replace_existing=True,
        )
    return scheduler


class Clockwork:
    """The scheduler, the planner and the dispatcher, started and stopped together."""

    def __init__(self, db: Database, config: Config, senders: dict[str, Sender],
                 clock: Callable[[], datetime] | None = None):
        self.db = db
        self.config = config
        self.clock = clock
        self.planner = Planner(db, config, clock)
        self.dispatcher = Dispatcher(db, config, senders, clock)
        self.planning = db.health.loop("planner", "the calendar's planning (reminders, late "
                                       "lists, digests, notices)", every=60.0, logger=log)
        self.housekeeping = db.health.loop("housekeeping", "the nightly housekeeping "
                                           "(forgetting old message ids)", logger=log)
        self.scheduler = build_scheduler(db, config, self.planner, tick=self.tick,
                                         housekeeping=self.forget_old_inbound)
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._first_tick: asyncio.Task | None = None

    async def start(self) -> None:
        """Check the calendar against the areas, catch up, start the jobs and the delivery.
        The catching up runs beside the start: on a locked database it is tried again, and
        the bot answers meanwhile."""
        await self.planner.resolve()
        self._first_tick = asyncio.create_task(self._catch_up(), name="first calendar tick")
        self.scheduler.start()
        self._task = asyncio.create_task(self.dispatcher.run(self._stop), name="dispatcher")

    async def _catch_up(self) -> None:
        planned = await self.tick()
        if planned:
            log.info("calendar: %d campaigns planned at start-up", len(planned))

    async def tick(self) -> list[int]:
        """The planner's tick, tried again after a passing database fault for up to
        ``TICK_RETRY_FOR`` seconds; never raises (a bug is logged with its traceback, and the
        next minute's tick tries again)."""
        planned = await self._patiently(self.planning, self.planner.tick)
        return planned or []

    async def forget_old_inbound(self) -> int:
        return await self._patiently(self.housekeeping, forget_old_inbound, self.db,
                                     self.config, self.clock) or 0

    async def _patiently(self, health: LoopHealth, work: Callable, *args):
        until = time.monotonic() + TICK_RETRY_FOR
        while True:
            try:
                done = await work(*args)
            except Exception as error:
                wait = health.failed(error, first=TICK_RETRY_FIRST)
                if (not is_transient(error) or self._stop.is_set()
                        or time.monotonic() + wait > until):
                    return None
                try:
                    await asyncio.wait_for(self._stop.wait(), wait)
                except TimeoutError:
                    pass
                continue
            health.ok()
            return done

    async def stop(self) -> None:
        """Stop the jobs; let the messages in flight finish."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self._stop.set()
        if self._first_tick is not None:
            await self._first_tick
            self._first_tick = None
        if self._task is not None:
            await self._task
            self._task = None
        self.planning.stopped()
