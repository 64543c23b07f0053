"""The dispatcher: delivers the outbox at each channel's rate, and survives crashes.

Channel-neutral: each channel adapter gives a :class:`Sender` (``send(chat_id, outbound)``
raising the delivery errors of :mod:`common.delivery`) with its rate limits; the
dispatcher knows no messenger.

For every message: claim it (``sending``, committed), wait for the channel's next sending slot
(``rate`` messages a second over all chats, ``per_chat_interval`` seconds between two messages
to one chat), send, record the outcome:

* sent → ``sent`` (a database locked by another process meanwhile delays the record, never
  sends the message again);
* the person blocked the bot, or the messenger knows no such chat → that messenger is marked
  blocked and the message tries the person's next messenger at once; with none left it is
  ``unreachable`` and the commune officers are told (below);
* throttled → the whole channel pauses for ``retry_after`` and the message waits as long
  (throttling never counts as a failed attempt); a message of that channel claimed during
  the pause goes back to the queue until its end, leaving its place to other channels;
* a passing failure, or no answer within the channel's request timeout (the message may
  have arrived: at least once, never lost) → retried with a doubling back-off, up to
  ``outbox.max_attempts``;
* misconfigured (our fault) → ``failed`` at once, logged as an error;
* outside the messenger's window (Zalo lets a bot write only for a while after the person
  last wrote) → the person's next messenger is tried at once; with none left the message is
  ``unreachable`` and the commune officers are told (never retried for ever).

Who could not be reached is told to the officers of the nearest area above them (their
commune) in one alert per officer, listing every such person and why (blocked, chat not
found, outside the window), none left out: for a campaign once it has nothing more to send,
or ``UNREACHABLE_GATHER`` after a person was found unreachable if it is still sending. The
alert goes through the outbox, never at night; the officer who started a campaign is not
alerted, the campaign's report to them names everyone it missed.

A message pinned to one identity (``Planned.to``: "your Zalo account was linked", for the
person's other messenger) goes there or, when that messenger is blocked or unlinked, nowhere
(``unreachable``, nobody told).

At most ``outbox.concurrency`` messages are claimed at once, not counting up to as many sends
a messenger has left unanswered for ``SLOW_SEND`` (hung connections never stop the outbox). No
send of a channel starts inside a "retry after" pause (:class:`Pacer`). A normal stop lets them
finish; after a hard crash they are found ``sending`` at start-up and sent again
(at-least-once for those few, exactly once for all others).

A passing database fault (another process's transaction holding the lock longer than
``busy_timeout``, a disk I/O error, a full disk) never stops the dispatcher: the round is tried
again with a growing pause (logged at once, shown by ``python -m bot health``). A message whose
send went through is recorded as sent however long the database takes to accept it (sending it
again would send it twice); one that had not reached its send yet goes back to the queue
without counting as a failed attempt. A reminder whose report arrived in the meantime is
dropped (``skipped``) instead of sent. Campaigns started by a person report their progress to
that person while they run and when they are done.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from common.catalogue import t
from common.config import Config
from common.delivery import (
    ChatNotFound,
    DeliveryError,
    Misconfigured,
    OutsideWindow,
    RecipientBlocked,
    Throttled,
)
from common.messages import Outbound
from common.text import fold
from handlers.menu import channel_name
from handlers.router import is_menu
from storage import outbox
from storage.areas import Area, get_area
from storage.db import Database, is_transient
from storage.dialogs import menu_state, remember_menu
from storage.outbox import Planned, QueuedMessage
from storage.people import Person, get_person
from storage.progress import filed_areas, role_holders

log = logging.getLogger(__name__)

IDLE_POLL = 1.0  # seconds between looks at the queue when nothing is due
MAINTAIN_EVERY = 1.0  # seconds between progress checks of running campaigns
# After a stop, how long a delivery still tries to record its outcome in a database that
# refuses it; then the message stays ``sending`` and is sent again at the next start.
RECORD_GRACE_AFTER_STOP = 15.0
# The pauses between two tries to record a delivery (the database's own busy timeout waits
# for a lock before each try fails).
RECORD_BACKOFF_FIRST, RECORD_BACKOFF_MAX = 0.1, 2.0
# A message put back in the queue because of a passing database fault waits this long.
REQUEUE_AFTER = timedelta(seconds=2)
HEALTH_NAME = "dispatcher"
# Seconds after which a send the messenger has not answered stops holding its place among
# the ``outbox.concurrency`` (a messenger answers in well under a second; a hung send ends at
# the channel's request timeout). At most as many such slow sends run besides the others.
SLOW_SEND = 3.0
# How long the people a campaign could not reach wait for the others of the same campaign
# before their officers are told anyway (a campaign held up by retries or by dialogs).
UNREACHABLE_GATHER = timedelta(minutes=30)
# Why a messenger did not reach a person (``channel:reason`` in outbox.untold_reasons).
BLOCKED, CHAT_NOT_FOUND, WINDOW, GONE = "blocked", "chat_not_found", "window", "gone"
WHY_KEYS = {BLOCKED: "outbox.why.blocked", CHAT_NOT_FOUND: "outbox.why.chat_not_found",
            WINDOW: "outbox.why.window", GONE: "outbox.why.gone"}


class Sender(Protocol):
    """What a channel adapter offers the dispatcher."""

    channel: str
    rate: float  # messages per second over all chats
    per_chat_interval: float  # seconds between two messages to one chat

    async def send(self, chat_id: str, message: Outbound) -> None:
        """Deliver or raise a :class:`common.delivery.DeliveryError`."""


class Pacer:
    """Evenly spaced sending slots: ``rate`` a second overall, one per chat per interval.

    A pause ("retry after") holds every slot until it ends, also the slots of messages
    already waiting for theirs: with ``outbox.concurrency`` messages claimed at once, several
    wait for a slot when one of them is refused, and none of them may go inside the pause.
    """

    def __init__(self, rate: float, per_chat_interval: float,
                 monotonic: Callable[[], float] = time.monotonic):
        self.interval = 1.0 / rate
        self.per_chat = per_chat_interval
        self.monotonic = monotonic
        self._next = 0.0
        self._paused_until = 0.0
        self._chat_next: dict[str, float] = {}

    async def wait(self, chat_id: str) -> None:
        """Wait for this chat's next slot and take it; a pause that begins meanwhile puts
        the slot after its end (in the order the slots were taken)."""
        while True:
            now = self.monotonic()
            slot = max(now, self._next, self._paused_until, self._chat_next.get(chat_id, 0.0))
            self._next = slot + self.interval
            self._chat_next[chat_id] = slot + self.per_chat
            if len(self._chat_next) > 50_000:  # forget chats whose slot has long passed
                self._chat_next = {c: s for c, s in self._chat_next.items() if s > now}
            if slot > now:
                await asyncio.sleep(slot - now)
            if self._paused_until <= self.monotonic():
                return

    def paused_for(self) -> float:
        """Seconds the channel's pause still lasts (0 when there is none)."""
        return max(0.0, self._paused_until - self.monotonic())

    def pause(self, seconds: float) -> None:
        """No slot before ``seconds`` from now (the messenger said "retry after")."""
        self._paused_until = max(self._paused_until, self.monotonic() + seconds)
        self._next = max(self._next, self._paused_until)


class _Unrecorded(Exception):
    """A delivery's outcome could not be written before the dispatcher stopped."""


class Dispatcher:
    def __init__(self, db: Database, config: Config, senders: dict[str, Sender],
                 clock: Callable[[], datetime] | None = None):
        self.db = db
        self.health = db.health.loop(HEALTH_NAME, "the outbox's delivery (reminders, "
                                     "announcements, alerts)", every=IDLE_POLL, logger=log)
        self._stop: asyncio.Event | None = None
        self.config = config
        self.senders = senders
        self.clock = clock or (lambda: datetime.now(UTC))
        self.pacers = {name: Pacer(s.rate, s.per_chat_interval) for name, s in senders.items()}
        self._maintained = 0.0
        self.in_flight: set[asyncio.Task] = set()  # deliveries under way
        self._sending: dict[int, float] = {}  # message id → when its send to a messenger began
        self.sent = 0  # messages delivered by this dispatcher (for logs and benchmarks)

    # ---- running ------------------------------------------------------------------------

    async def recover(self) -> int:
        """Put messages left in flight by a dead process back in the queue."""
        async with self.db.write() as conn:
            count = await outbox.recover_in_flight(conn, self.clock())
        if count:
            log.warning("outbox: %d messages were in flight when the bot stopped; "
                        "sending them again", count)
        return count

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; then let the messages in flight finish. A round
        that fails (a passing database fault, or a bug) is logged and tried again after a
        growing pause: the dispatcher only ends when it is stopped."""
        self._stop = stop
        while not await self._round(stop, self.recover):
            pass
        tasks = self.in_flight
        limit = self.config.outbox.concurrency
        try:
            while not stop.is_set():
                try:
                    await self._maintain_now_and_then()
                    room, turns_slow = self._room(len(tasks), limit)
                    claimed = await self._claim(room) if room > 0 else []
                except Exception as error:
                    await self._pause(stop, self.health.failed(error))
                    continue
                for message in claimed:
                    task = asyncio.create_task(self._deliver(message))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                if claimed:
                    continue
                waiters = [asyncio.ensure_future(stop.wait())]
                try:
                    idle = await self._idle_time() if room > 0 else IDLE_POLL
                except Exception as error:
                    idle = self.health.failed(error)
                await asyncio.wait(waiters + list(tasks), timeout=min(idle, turns_slow),
                                   return_when=asyncio.FIRST_COMPLETED)
                waiters[0].cancel()
        finally:
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            self.health.stopped()
        await self._round(stop, self.maintain)

    async def _round(self, stop: asyncio.Event, work: Callable) -> bool:
        """``work()``; False (after the back-off pause) when it failed and should be tried
        again, True when it went well or the dispatcher is stopping."""
        try:
            await work()
        except Exception as error:
            if stop.is_set():
                log.warning("outbox: %s at the stop failed: %s", work.__name__, error)
                return True
            await self._pause(stop, self.health.failed(error))
            return False
        self.health.ok()
        return True

    @staticmethod
    async def _pause(stop: asyncio.Event, seconds: float) -> None:
        """Sleep ``seconds``, or less when ``stop`` is set meanwhile."""
        try:
            await asyncio.wait_for(stop.wait(), seconds)
        except TimeoutError:
            pass

    def _room(self, in_flight: int, limit: int) -> tuple[int, float]:
        """How many more messages may be claimed, and the seconds until a send under way
        turns slow. A send unanswered for ``SLOW_SEND`` (a hung connection) no longer holds
        its place, up to ``limit`` such sends: a few hung sends never stop the outbox, and
        at most twice ``outbox.concurrency`` messages are ever in flight."""
        now = time.monotonic()
        slow = 0
        # a delivery that has not reached its send yet (its sending slot) turns slow later
        turns_slow = min(IDLE_POLL, SLOW_SEND) if in_flight > len(self._sending) else IDLE_POLL
        for began in self._sending.values():
            left = began + SLOW_SEND - now
            if left <= 0:
                slow += 1
            else:
                turns_slow = min(turns_slow, left)
        return limit - in_flight + min(slow, limit), turns_slow

    async def drain(self) -> int:
        """Deliver everything due now, then return how many messages were handled (tests,
        the console, the command line)."""
        handled = 0
        limit = self.config.outbox.concurrency
        async with self.db.read() as conn:
            due = await outbox.next_due(conn)
        if due is None or due > self.clock():
            return 0
        while True:
            claimed = await self._claim(limit)
            if not claimed:
                # A finished broadcast's report to its sender is due at once: send it too.
                if handled and await self.maintain():
                    continue
                return handled
            await asyncio.gather(*(self._deliver(m) for m in claimed))
            handled += len(claimed)

    async def _claim(self, limit: int) -> list[QueuedMessage]:
        if limit <= 0:
            return []
        async with self.db.write() as conn:
            claimed = await outbox.claim_due(conn, self.clock(), limit)
        self.health.ok()  # the database takes the dispatcher's writes
        return claimed

    async def _idle_time(self) -> float:
        async with self.db.read() as conn:
            due = await outbox.next_due(conn)
        if due is None:
            return IDLE_POLL
        return min(IDLE_POLL, max(0.01, (due - self.clock()).total_seconds()))

    # ---- one message --------------------------------------------------------------------

    async def _deliver(self, message: QueuedMessage) -> None:
        try:
            await self._try(message)
        except _Unrecorded as exc:  # stopping: sent again at the next start
            log.warning("outbox: message %s left in flight at the stop: %s", message.id, exc)
        except Exception as error:
            if is_transient(error):  # before its send: back to the queue, no attempt lost
                log.info("outbox: message %s waits for the database: %s", message.id, error)
                self.health.failed(error)
                reason = f"database: {error}"
                try:
                    await self._record(self._requeue, message, reason)
                except Exception:
                    log.exception("outbox: could not put message %s back in the queue",
                                  message.id)
                return
            # a bug: keep the message, try later
            log.exception("outbox: message %s failed unexpectedly", message.id)
            try:
                await self._record(self._retry, message, "internal error")
            except Exception:
                log.exception("outbox: could not reschedule message %s", message.id)

    async def _record(self, write: Callable, *args) -> None:
        """``await write(*args)`` (a write of the outbox), tried again after a passing
        database fault until it is written: what a messenger has done must not be lost. When
        the dispatcher has been stopped, for at most ``RECORD_GRACE_AFTER_STOP`` seconds
        more (then :class:`_Unrecorded`)."""
        given_up_at: float | None = None
        tries = 0
        while True:
            try:
                await write(*args)
            except Exception as error:
                if not is_transient(error):
                    raise
                self.health.failed(error)
                wait = min(RECORD_BACKOFF_MAX, RECORD_BACKOFF_FIRST * 2 ** tries)
                tries += 1
                if self._stop is not None and self._stop.is_set():
                    given_up_at = given_up_at or time.monotonic() + RECORD_GRACE_AFTER_STOP
                    if time.monotonic() >= given_up_at:
                        raise _Unrecorded(str(error)) from error
                await asyncio.sleep(wait)
                continue
            if given_up_at is not None or self.health.failing:
                self.health.ok()
            return

    async def _requeue(self, message: QueuedMessage, error: str) -> None:
        now = self.clock()
        async with self.db.write() as conn:
            await outbox.retry_later(conn, message.id, at=now, error=error,
                                     not_before=now + REQUEUE_AFTER, count_attempt=False)

    async def _try(self, message: QueuedMessage) -> None:
        now = self.clock()
        async with self.db.read() as conn:
            if message.subject and await self._no_longer_needed(conn, message.subject):
                skip = True
            else:
                skip = False
                addresses = await outbox.reachable_identities(
                    conn, message.person_id, self.config.outbox.prefer_channel)
        if skip:
            async with self.db.write() as conn:
                await outbox.mark_final(conn, message.id, "skipped", at=now,
                                        error="report filed before the reminder went out")
            return
        usable = [a for a in addresses if a.channel in self.senders]
        if message.to is not None:
            usable = [a for a in usable if (a.channel, a.external_id) == message.to]
            if not usable:  # that messenger was blocked or unlinked: nobody else to tell
                async with self.db.write() as conn:
                    await outbox.mark_final(conn, message.id, "unreachable", at=now,
                                            error="the messenger it is for is gone")
                return
        if not usable:
            await self._unreachable(message, "no messenger left to reach this person", [])
            return
        reasons: list[str] = []
        errors: list[str] = []
        for address in usable:  # the next messenger when one cannot reach the person
            if await self._held(message, address, now):
                return
            pacer = self.pacers[address.channel]
            if paused := pacer.paused_for():
                # Not waiting for the pause in an outbox place, which another channel's
                # messages need meanwhile: back to the queue until the pause is over.
                await self._put_back(message, paused)
                return
            await pacer.wait(address.chat_id)
            try:
                await self._send(message, address)
            except OutsideWindow as exc:
                log.info("outbox: person %s cannot be written to on %s now: %s",
                         message.person_id, address.channel, exc.message)
                reasons.append(f"{address.channel}:{WINDOW}")
                errors.append(f"{address.channel}: outside the window: {exc.message}")
                continue
            except RecipientBlocked as exc:
                log.info("outbox: person %s blocked the bot on %s (%s)", message.person_id,
                         address.channel, exc.message)
                await self._record(self._mark_blocked, address)
                why = CHAT_NOT_FOUND if isinstance(exc, ChatNotFound) else BLOCKED
                reasons.append(f"{address.channel}:{why}")
                errors.append(f"{address.channel}: blocked: {exc.message}")
                continue
            except DeliveryError as exc:
                await self._record(self._failed, message, address, exc)
                return
            await self._record(self._mark_sent, message, address)
            self.sent += 1
            return
        await self._record(self._unreachable, message, "; ".join(errors), reasons)

    async def _mark_sent(self, message: QueuedMessage, address: outbox.Address) -> None:
        async with self.db.write() as conn:
            await outbox.mark_sent(conn, message.id, channel=address.channel,
                                   chat_id=address.chat_id, at=self.clock())
            options = message.message.options
            if is_menu(options):
                # «Báo cáo ngay» typed (or its number) works where there are no buttons
                await remember_menu(conn, address.channel, address.external_id,
                                    menu_state(options, message.message.free_input),
                                    self.clock())

    async def _mark_blocked(self, address: outbox.Address) -> None:
        async with self.db.write() as conn:
            await outbox.mark_blocked(conn, address.channel, address.external_id, self.clock())

    async def _send(self, message: QueuedMessage, address: outbox.Address) -> None:
        """The messenger's send, timed for :meth:`_room`."""
        self._sending[message.id] = time.monotonic()
        try:
            await self.senders[address.channel].send(address.chat_id, message.message)
        finally:
            del self._sending[message.id]

    async def _held(self, message: QueuedMessage, address: outbox.Address,
                    now: datetime) -> bool:
        """Whether the message waits because its recipient is in the middle of a dialog
        there: it must not land between two questions (nor its buttons answer "busy"). It
        goes when the dialog ends (the core releases it), or ``outbox.dialog_hold_minutes``
        after the last answer, when the dialog counts as left; never in quiet hours."""
        minutes = self.config.outbox.dialog_hold_minutes
        if address.dialog_at is None or minutes <= 0:
            return False
        until = address.dialog_at + timedelta(minutes=minutes)
        if until <= now:
            return False
        until = self.config.calendar.next_sending_time(until.astimezone(self.config.timezone))
        log.info("outbox: message %s waits for person %s to finish a dialog on %s",
                 message.id, message.person_id, address.channel)
        async with self.db.write() as conn:
            await outbox.hold(conn, message.id, until=until, at=now)
        return True

    async def _put_back(self, message: QueuedMessage, seconds: float) -> None:
        """Back to the queue for ``seconds`` (its channel's pause), not a failed attempt."""
        now = self.clock()
        async with self.db.write() as conn:
            await outbox.retry_later(conn, message.id, at=now, count_attempt=False,
                                     error="throttled: waiting for the channel's pause",
                                     not_before=now + timedelta(seconds=seconds))

    async def _failed(self, message: QueuedMessage, address: outbox.Address,
                      error: DeliveryError) -> None:
        """Record a refused send and decide what follows (see the module's docstring)."""
        now = self.clock()
        if isinstance(error, Throttled):
            self.pacers[address.channel].pause(error.retry_after)
            async with self.db.write() as conn:
                await outbox.retry_later(
                    conn, message.id, at=now, error=f"throttled: {error.message}",
                    not_before=now + timedelta(seconds=error.retry_after),
                    count_attempt=False)
        elif isinstance(error, Misconfigured):
            log.error("outbox: message %s to %s cannot be sent: %s", message.id,
                      address.channel, error.message)
            async with self.db.write() as conn:
                await outbox.mark_final(conn, message.id, "failed", at=now,
                                        error=f"misconfigured: {error.message}",
                                        channel=address.channel, chat_id=address.chat_id)
        else:
            await self._retry(message, f"{type(error).__name__}: {error.message}")

    async def _no_longer_needed(self, conn, subject: dict) -> bool:
        """A reminder whose every report has come in since it was planned."""
        areas = subject.get("areas") or []
        filed = await filed_areas(conn, subject["form"], subject["period"], areas)
        return bool(areas) and len(filed) == len(set(areas))

    async def _retry(self, message: QueuedMessage, error: str) -> None:
        cfg = self.config.outbox
        now = self.clock()
        async with self.db.write() as conn:
            if message.attempts >= cfg.max_attempts:
                log.warning("outbox: giving up message %s after %d attempts: %s",
                            message.id, message.attempts, error)
                await outbox.mark_final(conn, message.id, "failed", at=now, error=error)
                return
            wait = min(cfg.retry_max_seconds,
                       cfg.retry_base_seconds * 2 ** (message.attempts - 1))
            when = self.config.calendar.next_sending_time(
                (now + timedelta(seconds=wait)).astimezone(self.config.timezone))
            await outbox.retry_later(conn, message.id, not_before=when, at=now, error=error)

    async def _unreachable(self, message: QueuedMessage, error: str,
                           reasons: list[str]) -> None:
        """No messenger reaches the person: record it, and why (``channel:reason``), for
        their officers' alert (:meth:`_tell_officers`); nobody is told about an alert or a
        progress report that went nowhere."""
        now = self.clock()
        async with self.db.write() as conn:
            if message.kind in ("alert", "progress"):
                await outbox.mark_unreachable(conn, message.id, at=now, error=error,
                                              reasons=None)
                return
            said = {r.split(":")[0] for r in reasons}  # blocked before: not tried this time
            reasons = reasons + [f"{c}:{BLOCKED}" for c in await outbox.blocked_channels(
                conn, message.person_id) if c not in said]
            await outbox.mark_unreachable(conn, message.id, at=now, error=error,
                                          reasons=reasons or [f"-:{GONE}"])

    async def _tell_officers(self, conn, now: datetime) -> int:
        """One alert per officer for the people not reached (see the module's docstring);
        how many alerts were planned."""
        ready = [u for u in await outbox.untold_unreachable(conn)
                 if not u.campaign_open or now - u.at >= UNREACHABLE_GATHER]
        if not ready:
            return 0
        officers = await _Officers.load(conn)
        told: dict[int, dict[int, tuple[Person, list[str]]]] = {}  # officer → person → why
        for entry in ready:
            person = await get_person(conn, entry.person_id)
            if person is None:
                continue
            for officer in officers.nearest(person):
                if officer == entry.requested_by:  # the campaign's report names them
                    continue
                _, why = told.setdefault(officer, {}).setdefault(person.id, (person, []))
                why += [r for r in entry.reasons if r not in why]
        await outbox.mark_told(conn, [u.id for u in ready])
        if not told:
            return 0
        await outbox.create_campaign(
            conn, key=f"alert:unreachable:{ready[0].id}", kind="alert",
            messages=[Planned(officer, Outbound(_unreachable_text(list(people.values()))))
                      for officer, people in told.items()],
            not_before=self.config.calendar.next_sending_time(
                now.astimezone(self.config.timezone)),
            at=now, priority=1)
        return len(told)

    # ---- campaigns ----------------------------------------------------------------------

    async def _maintain_now_and_then(self) -> None:
        if time.monotonic() - self._maintained >= MAINTAIN_EVERY:
            await self.maintain()

    async def maintain(self) -> int:
        """Close finished campaigns; report progress of running ones to who started them.
        Tell officers who could not be reached. Returns how many reports and alerts were
        planned."""
        self._maintained = time.monotonic()
        now = self.clock()
        cfg = self.config.outbox
        reports = 0
        async with self.db.write() as conn:
            reports += await self._tell_officers(conn, now)
            await outbox.close_finished(conn, now)
            for campaign in await outbox.open_campaigns(conn):
                if campaign.requested_by is None:
                    continue
                counts = await outbox.campaign_counts(conn, campaign.id)
                open_now = counts["pending"] + counts["sending"]
                done = open_now == 0
                last = campaign.progress_at or campaign.starts_at
                due = (campaign.total >= cfg.progress_min_recipients
                       and (now - last).total_seconds() >= cfg.progress_every_seconds)
                if not done and not due:
                    continue
                seq = await outbox.note_progress(conn, campaign.id, now, done)
                text = await self._progress_text(conn, campaign, counts, done)
                await outbox.create_campaign(
                    conn, key=f"progress:{campaign.id}:{seq}", kind="progress",
                    messages=[Planned(campaign.requested_by, Outbound(text))],
                    not_before=self.config.calendar.next_sending_time(
                        now.astimezone(self.config.timezone)),
                    at=now, priority=0)
                reports += 1
        return reports

    async def _progress_text(self, conn, campaign: outbox.Campaign, counts: dict,
                             done: bool) -> str:
        delivered = counts["sent"]
        missed = counts["unreachable"] + counts["failed"]
        area = await get_area(conn, campaign.area_id) if campaign.area_id else None
        where = area.name if area else ""
        if not done:
            return t("outbox.progress", title=campaign.title, area=where, sent=delivered,
                     total=campaign.total)
        key = "outbox.reminded_done" if campaign.kind == "remind_again" else "outbox.done"
        lines = [t(key, title=campaign.title, area=where, sent=delivered,
                   total=campaign.total)]
        if missed:
            names = await outbox.unreachable_names(conn, campaign.id)
            lines.append(t("outbox.done_missed", n=missed, names=", ".join(names)))
        return "\n".join(lines)


class _Officers:
    """Every officer's area, read once for an alert about many people."""

    def __init__(self, holders: list[tuple[int, Area]]):
        self.holders = holders  # (person id, area)

    @classmethod
    async def load(cls, conn) -> _Officers:
        holders = []
        for holder in await role_holders(conn, ("officer",)):
            area = await get_area(conn, holder.area_id)
            if area is not None:
                holders.append((holder.person_id, area))
        return cls(holders)

    def nearest(self, person: Person) -> list[int]:
        """The officers of the nearest area above each of the person's areas (their
        commune)."""
        found: list[int] = []
        for role in person.roles:
            best: list[int] = []
            depth = -1
            for officer, area in self.holders:
                if officer == person.id or area.id == role.area.id \
                        or not area.contains(role.area):
                    continue
                if len(area.path) > depth:
                    best, depth = [officer], len(area.path)
                elif len(area.path) == depth:
                    best.append(officer)
            found += [p for p in best if p not in found]
        return found


def _unreachable_text(people: list[tuple[Person, list[str]]]) -> str:
    """The alert: every person not reached (by area, then name), each with why."""
    def areas(person: Person) -> str:
        return ", ".join(r.area.name for r in person.roles) or "?"

    def why(reason: str) -> str:
        channel, _, code = reason.partition(":")
        return t(WHY_KEYS.get(code, WHY_KEYS[GONE]), channel=channel_name(channel))

    lines = [t("outbox.unreachable.title", n=len(people))]
    for person, reasons in sorted(people, key=lambda p: (fold(areas(p[0])),
                                                         fold(p[0].full_name))):
        lines.append(t("outbox.unreachable.line", name=person.full_name, areas=areas(person),
                       why="; ".join(why(r) for r in reasons)))
    lines.append(t("outbox.unreachable.advice"))
    return "\n".join(lines)
