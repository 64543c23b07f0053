"""The core: ``await core.handle(inbound) -> list[Outbound]``, the same for every channel.

One inbound message is processed in one database transaction: the redelivery check, the
dialog state, and whatever the message changes are committed together or not at all.
Messages of one sender are processed in order; different senders run concurrently.

A command typed (or a menu button pressed) while a dialog waits for an answer:

* ``/huy`` (and the cancel words) always ends the dialog and says what was and was not saved;
* a dialog that only shows a list or a card (its ``PASSIVE``) simply ends, and the command runs;
* the read-only commands (``READ_ONLY``: ``/toi``, ``/lich``, ``/help``) are answered and the
  question is asked again after them, with its own buttons only (theirs would start
  something else); nothing of the dialog changes;
* the command that opened the dialog, sent again while the dialog sits at a list to choose
  from and nothing has been answered since it opened (``/baocao`` at its choice of village),
  starts it again, with the arguments typed now;
* any other command (another dialog, or the same one once something was answered) gets the
  busy answer: the question again, with its buttons and a way out (``STOP``) when it has no
  «Hủy» of its own.

A question whose reply did not reach the person (the channel gives the reply back,
:meth:`Core.undelivered`) is not answered by what they type next: they are likely to retype
their previous answer, which would be stored as the next field. They get «Xin lỗi, câu hỏi
trước chưa tới được bạn:» and the question again, and nothing is stored; a button of that
question (it did arrive, after all) and commands work as always. A menu that did not arrive
chooses nothing for a typed number. Only a failed reply costs a database write.

A caption is the message's text (as in RapidPro's courier): a photo sent with «/baocao 120 …»
is read as that text, with a note that the photo itself is not kept; a photo, a sticker or a
voice message without text gets the polite answer and the question again.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

import aiosqlite

from common.catalogue import t
from common.config import Config
from common.messages import Inbound, Option, Outbound
from common.numbers import format_count
from common.text import MAX_INBOUND, plain
from handlers import announce, calendar, enrol, households, link, menu, movement, report, stats
from handlers.context import Answer, Context
from handlers.router import (
    Command,
    is_menu,
    looks_like_invite,
    looks_like_link_code,
    match,
)
from reports.stats import StatsService
from storage.db import Database, is_transient
from storage.dialogs import (
    MENU,
    UNDELIVERED,
    DialogState,
    clear_dialog,
    load_dialog,
    mark_undelivered,
    menu_state,
    save_dialog,
)
from storage.inbound import first_delivery_statement
from storage.outbox import release_held
from storage.people import Person, person_by_identity, touch_identity, unblock_statement

log = logging.getLogger(__name__)

# Statements a channel adds to a message's transaction, ``(sql, args)`` (see Core.handle).
Settle = Sequence[tuple[str, Sequence[object]]]

# Who is behind a messenger identity is remembered this long (seconds) after it was read; an
# enrolment in this process updates it at once, a change made elsewhere shows after this delay
# at the latest (also for someone who writes all the time).
PERSON_TTL = 60.0


# The busy answer's way out of a dialog whose question has no «Hủy» (an action of the core).
STOP = "core:stop"
# Not "dung" alone: without diacritics it is also «đúng» (yes), typed at every question.
STOP_WORDS = ("dung lai", "huy")
# Commands that only show something: answered in the middle of a dialog, which goes on.
READ_ONLY = ("whoami", "calendar", "help")

# Kept in a dialog's draft by the core: the command that opened it, and how many answers it
# has had since (see the module's docstring).
OPENED_BY, ANSWERED = "_opened_by", "_answered"

class _Passing(Exception):
    """A message's transaction met a passing database fault (``storage.db.is_transient``)."""

    def __init__(self, error: Exception):
        super().__init__(str(error))
        self.error = error


# Dialog name -> module with ``ask(ctx, state)`` and ``answer(ctx, state, answer)``.
DIALOGS = {"report": report, "household": households, "review": households.REVIEW,
           "movement": movement, "announce": announce, "stats": stats, "link": link,
           enrol.GRANT_DIALOG: enrol.GRANT}


class Core:
    def __init__(
        self, db: Database, config: Config, clock: Callable[[], datetime] | None = None
    ):
        self.db = db
        self.config = config
        self.clock = clock or (lambda: datetime.now(UTC))
        self._locks: dict[tuple[str, str], list] = {}
        self._people: dict[tuple[str, str], tuple[float, Person | None]] = {}
        # person id -> the identity last noted as the one they use (see _person).
        self._last_used: dict[int, tuple[str, str]] = {}
        self.stats = StatsService(db, config, clock=self.clock)
        self._stopping = asyncio.Event()  # stop_retrying
        self._told_busy: set[tuple[str, str]] = set()  # told «đang bận», not answered since

    def close(self) -> None:
        """Stop the chart processes."""
        self.stats.close()

    def stop_retrying(self) -> None:
        """The bot is stopping: messages waiting for the database give up (a stored one is
        processed at the next start)."""
        self._stopping.set()

    async def handle(self, inbound: Inbound, *, settle: Settle | None = None,
                     on_busy: Callable[[list[Outbound]], Awaitable[object]] | None = None
                     ) -> list[Outbound]:
        """Process one message and return the replies to send to its chat.

        ``settle``, statements run in the message's own transaction (also for a
        redelivery), with its redelivery check in one trip: the Zalo adapter removes the
        stored event there, so that an event is
        processed once and never lost. A message whose processing fails is settled on its
        own afterwards (its sender got an apology and may write again), so that it cannot
        fail again at every start-up.

        A passing database fault (a lock held longer than ``busy_timeout``, a disk I/O
        error, a full disk) is no failure: nothing was saved, nothing is settled, and the
        message is tried again with a growing pause until it goes through (the sender's
        later messages wait behind it, in order). The sender hears once, through
        ``on_busy``, that the system is busy and the message will be processed, then the real
        answer. After :meth:`stop_retrying` it gives up and returns nothing (a stored message
        stays stored).
        """
        key = (inbound.channel, inbound.sender_id)
        entry = self._locks.setdefault(key, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                return await self._patiently(inbound, settle, on_busy)
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self._locks[key]

    async def _patiently(self, inbound: Inbound, settle: Settle | None,
                         on_busy: Callable[[list[Outbound]], Awaitable[object]] | None
                         ) -> list[Outbound]:
        """:meth:`_handle`, tried again while the database has a passing fault."""
        key = (inbound.channel, inbound.sender_id)
        health = self.db.health.loop(f"{inbound.channel} messages",
                                     f"processing {inbound.channel} messages", logger=log)
        while True:
            try:
                replies = await self._handle(inbound, settle)
            except _Passing as passing:
                wait = health.failed(passing.error)
                if self._stopping.is_set():
                    log.warning("%s message %s not processed before the stop (%s)%s",
                                inbound.channel, inbound.message_id, passing,
                                "; kept for the next start" if settle is not None else "")
                    return []
                if on_busy is not None and key not in self._told_busy:
                    self._told_busy.add(key)
                    try:
                        await on_busy([Outbound(t("core.busy_retry"))])
                    except Exception:
                        log.warning("could not tell %s sender %s to wait", *key,
                                    exc_info=True)
                try:
                    await asyncio.wait_for(self._stopping.wait(), wait)
                except TimeoutError:
                    pass
                continue
            health.ok()
            self._told_busy.discard(key)
            return replies

    async def _handle(self, inbound: Inbound, settle: Settle | None) -> list[Outbound]:
        now = inbound.received_at or self.clock()
        key = (inbound.channel, inbound.sender_id)
        try:
            # Whoever writes has not blocked the bot: cleared here, not by the person lookup,
            # which a cached person skips.
            opening = (first_delivery_statement(inbound.channel, inbound.message_id, now),
                       *(settle or ()), unblock_statement(*key))
            async with self.db.write_opening(*opening) as (conn, counts):
                if counts[0] != 1:
                    log.info("ignored redelivered %s message %s",
                             inbound.channel, inbound.message_id)
                    return []
                ctx = Context(conn, self.config, inbound, await self._person(conn, key, now), now,
                              now.astimezone(self.config.timezone).date(), self.stats)
                replies = await self._dispatch(ctx)
        except Exception as error:
            self._people.pop(key, None)
            if is_transient(error):  # nothing saved, nothing settled: tried again
                raise _Passing(error) from error
            log.exception("failed to handle %s message %s", inbound.channel, inbound.message_id)
            if settle is not None:
                try:
                    async with self.db.write_opening(*settle):
                        pass
                except Exception:
                    log.exception("could not settle %s message %s", inbound.channel,
                                  inbound.message_id)
            return [Outbound(t("core.internal_error"))]
        cached = self._people.get(key)
        if cached is None or cached[1] is not ctx.person or cached[0] <= time.monotonic():
            # Committed: remember who this is for PERSON_TTL from when it was read (a cache
            # hit does not extend it, so a steady chatter also sees changes made elsewhere).
            self._people[key] = (time.monotonic() + PERSON_TTL, ctx.person)
        if ctx.person is not None:  # also just linked or enrolled: the identity used last
            self._last_used[ctx.person.id] = key
        for other in ctx.forget:
            self._people.pop(other, None)
        if any(r.deferred for r in replies):
            replies = await self._run_deferred(inbound, replies)
        return replies

    async def undelivered(self, inbound: Inbound, replies: Sequence[Outbound]) -> None:
        """The channel could not deliver ``replies`` (answers to ``inbound``; those skipped
        after a failure included). When one of them asked the question the sender's dialog
        waits on, the dialog notes it (module docstring), in one write; a reply to an older
        question, or none, changes nothing and costs nothing."""
        nonce = next((r.asks for r in replies if r.asks and r.chat_id is None), None)
        if nonce is None:
            return
        key = (inbound.channel, inbound.sender_id)
        entry = self._locks.setdefault(key, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                async with self.db.write() as conn:
                    marked = await mark_undelivered(conn, *key, nonce)
        except Exception:
            log.exception("could not note that the question to %s %s was not delivered",
                          *key)
            return
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self._locks[key]
        if marked:
            log.info("the question to %s %s was not delivered; it is asked again at the "
                     "next answer", *key)

    async def _run_deferred(self, inbound: Inbound, replies: list[Outbound]) -> list[Outbound]:
        """Run the work handlers left for after the commit (statistics: reads and charts
        that must not hold the write lock); a failure is one sentence, not a lost reply."""
        out: list[Outbound] = []
        for reply in replies:
            if reply.deferred is None:
                out.append(reply)
                continue
            try:
                out += await reply.deferred()
            except Exception:
                log.exception("deferred work for %s message %s failed", inbound.channel,
                              inbound.message_id)
                out.append(Outbound(t("core.deferred_error")))
        return out

    async def _person(self, conn: aiosqlite.Connection, key: tuple[str, str],
                      now: datetime) -> Person | None:
        """The enrolled person behind this identity (None for strangers), cached briefly.

        Looking the person up also notes the identity as the one they use now (reminders go
        to the messenger a person used last); that they have not blocked the bot is noted by
        every message's opening statements (``_handle``).
        A cached person is noted again when they write from another of their identities than
        last time (Telegram, then Zalo), so the order of their messengers stays right.
        """
        cached = self._people.get(key)
        if cached is not None and cached[0] > time.monotonic():
            person = cached[1]
            if person is not None and self._last_used.get(person.id) != key:
                await touch_identity(conn, *key, now)
                self._last_used[person.id] = key
            return person
        if len(self._people) > 100_000:
            self._people.clear()
            self._last_used.clear()
        person = await person_by_identity(conn, *key)
        if person is not None:
            await touch_identity(conn, *key, now)
            self._last_used[person.id] = key
        if person is not None and (not person.active or not person.roles):
            person = None
        return person

    async def _dispatch(self, ctx: Context) -> list[Outbound]:
        inbound = ctx.inbound
        if inbound.refused:  # the edge could not read it (common.messages.Inbound)
            said = [Outbound(t(inbound.refused, max=format_count(MAX_INBOUND)))]
            return said if ctx.person is None else await self._with_dialog_reminder(ctx, said)
        command = match(inbound.text, inbound.option)
        if ctx.person is None:
            replies = await self._stranger(ctx, command)
            if ctx.person is not None:  # enrolled or linked just now: the menu is remembered
                replies = await self._settle(ctx, None, replies)
            return replies
        if inbound.kind not in ("text", "option"):
            if not inbound.text.strip():  # a photo or a sticker without a caption
                return await self._with_dialog_reminder(ctx, [Outbound(t("core.text_only"))])
            return _prefixed(t("core.caption_read"), await self._read(ctx, command))
        return await self._read(ctx, command)

    async def _read(self, ctx: Context, command: Command | None) -> list[Outbound]:
        """A message of an enrolled person: an answer to their dialog, or a command."""
        inbound = ctx.inbound
        state = await load_dialog(ctx.conn, inbound.channel, inbound.sender_id)
        if state is not None and state.dialog == MENU:
            # No dialog; the last menu shown lets "1" or a typed label choose its entry (on
            # messengers without buttons), before the text is read as a command.
            chosen: list[str] = []
            ask = state.draft.get("_ask") or {}
            if inbound.option is None and not (command and command.slash) and not ask.get(
                    UNDELIVERED):  # a menu never seen chooses nothing
                chosen = _typed_options(inbound.text, ask)
            if len(chosen) > 1:  # «báo cáo ngay» under two «Báo cáo ngay: …» buttons
                which = tuple(Option(label, data, tuple(aliases))
                              for label, data, aliases in ask["options"] if data in chosen)
                return await self._settle(ctx, None, [
                    Outbound(t("core.which_option"), which, free_input=False)])
            if chosen:
                command = match("", chosen[0])
            state = None
        ctx.in_dialog = state is not None and not _passive(state)  # work under way
        if state is not None and _chose_stop(inbound, state):  # the busy answer's button
            command = Command("cancel", "", True)
        if command and command.name == "cancel" and (command.slash or not command.args):
            if state is not None and not command.slash and _own_cancel(state):
                return await self._answer(ctx, state, "cancel")  # the question's «❌ Hủy»
            return await self._settle(ctx, None, [menu.main_menu(ctx, _cancelled(state))])
        if state is not None and command and command.slash and _passive(state):
            await clear_dialog(ctx.conn, inbound.channel, inbound.sender_id)  # only a menu
            state = None
        if state is not None and command and command.slash:
            if command.name in READ_ONLY:
                shown = [m.with_options() for m in await self._show(ctx, command)]
                return shown + await self._ask(ctx, state)
            if not _starts_again(state, command):
                return await self._busy(ctx, state)
            state = None  # the dialog's own command at its first list: from the start
        if state is not None:
            return await self._answer(ctx, state)
        replies = await self._command(ctx, command)
        if not ctx.settled:  # no dialog started: remember the menu shown, if any
            replies = await self._settle(ctx, None, replies)
        return replies

    async def _command(self, ctx: Context, command: Command | None) -> list[Outbound]:
        inbound = ctx.inbound
        if command is None:
            if inbound.option is not None:
                return [menu.main_menu(ctx, t("core.stale_button"))]
            if looks_like_invite(inbound.text) or looks_like_link_code(inbound.text):
                return await self._settle(ctx, *await _use_code(ctx, inbound.text))
            return [menu.main_menu(ctx, t("core.not_understood"))]
        if command.name == "start":
            if command.args:
                return await self._settle(ctx, *await _use_code(ctx, command.args))
            return [menu.main_menu(ctx, t("core.welcome_back", name=ctx.person.full_name))]
        if command.name == "help":
            return [menu.help_text(ctx), menu.main_menu(ctx, t("menu.choose"))]
        if command.name in READ_ONLY:
            return await self._show(ctx, command)
        if command.name == "link":
            state, messages = await link.start(ctx, command.args)
        elif command.name == "report":
            state, messages = await report.start(ctx, command.args)
        elif command.name == "household":
            state, messages = await households.start(ctx, command.args)
        elif command.name == "registrations":
            state, messages = await households.registrations_start(ctx)
        elif command.name == "review":
            state, messages = await households.review_start(ctx)
        elif command.name in ("half_year", "yearly"):
            state, messages = await movement.start(ctx, command.args, command.name)
        elif command.name == "remind":
            return await calendar.remind_again(ctx, command.args)
        elif command.name == "stats":
            state, messages = await stats.start(ctx, command.args)
        elif command.name == "announce":
            state, messages = await announce.start(ctx, command.args)
        else:
            return [menu.main_menu(ctx, t("core.unknown_command"))]
        if state is not None:  # what opened it, for the same command sent again (module doc)
            state.draft[OPENED_BY] = command.name
        return await self._settle(ctx, state, messages)

    async def _show(self, ctx: Context, command: Command) -> list[Outbound]:
        """What a read-only command shows (``READ_ONLY``)."""
        if command.name == "help":
            return [menu.help_text(ctx)]
        if command.name == "whoami":
            return [await menu.whoami(ctx)]
        return await calendar.show(ctx, command.args)

    async def _stranger(self, ctx: Context, command: Command | None) -> list[Outbound]:
        """Unknown people may only enrol or link; they learn nothing else."""
        text = ctx.inbound.text
        state = await load_dialog(ctx.conn, ctx.inbound.channel, ctx.inbound.sender_id)
        if state is not None and state.dialog == enrol.ENROL:  # asked for their name
            if command and command.name == "cancel":
                return await enrol.give_up(ctx)
            if not (command and command.name in ("start", "link")) and not (
                    looks_like_invite(text) or looks_like_link_code(text)):
                return await enrol.answer_name(ctx, state)
        if command and command.name == "start" and command.args:
            return (await _use_code(ctx, command.args))[1]
        if command and command.name == "link":
            if looks_like_link_code(command.args):
                return await link.use(ctx, command.args)
            return [Outbound(t("link.stranger_help"))]
        if command is None and ctx.inbound.option is None and (
                looks_like_invite(text) or looks_like_link_code(text)):
            return (await _use_code(ctx, text))[1]
        return [Outbound(t("core.stranger"))]

    async def _answer(self, ctx: Context, state: DialogState,
                      action: str | None = None) -> list[Outbound]:
        """Turn the message into an Answer to the current question, checking button data
        (``action``: the typed text is that option, as the dialog's own cancel word)."""
        ask = state.draft.get("_ask") or {"nonce": "", "options": [], "free": True}
        inbound = ctx.inbound
        if action is not None:
            answer = Answer(inbound.text, action)
        elif inbound.option is not None:
            nonce, _, action = inbound.option.partition(".")
            valid = {data for _, data, _ in ask["options"]}
            if nonce != ask["nonce"] or action not in valid:
                return [Outbound(t("core.stale_button"))] + await self._ask(ctx, state)
            answer = Answer("", action)
        elif ask.get(UNDELIVERED):  # a typed answer, to a question that never arrived
            return _prefixed(t("core.undelivered"), await self._ask(ctx, state))
        else:
            answer = Answer(inbound.text, _typed_option(inbound.text, ask))
        dialog = DIALOGS[state.dialog]
        opened_by, answered = state.draft.get(OPENED_BY), state.draft.get(ANSWERED, 0) + 1
        new_state, messages = await dialog.answer(ctx, state, answer)
        if new_state is not None and new_state.dialog == state.dialog:
            new_state.draft[ANSWERED] = answered  # the dialog's first list is behind it
            if opened_by is not None:
                new_state.draft.setdefault(OPENED_BY, opened_by)
        return await self._settle(ctx, new_state, messages)

    async def _busy(self, ctx: Context, state: DialogState) -> list[Outbound]:
        """A command in the middle of a dialog: say so and ask the question again, with a
        button out of it (``STOP``) when the question has no «Hủy» of its own."""
        messages = _prefixed(t("core.busy"), await DIALOGS[state.dialog].ask(ctx, state))
        if not any(o.data == "cancel" for m in messages for o in m.options):
            at = next((i for i in range(len(messages) - 1, -1, -1) if messages[i].options),
                      len(messages) - 1)
            stop = Option(t("core.option.stop"), STOP, STOP_WORDS)
            messages[at] = messages[at].with_options(*messages[at].options, stop)
        return await self._settle(ctx, state, messages)

    async def _ask(self, ctx: Context, state: DialogState) -> list[Outbound]:
        messages = await DIALOGS[state.dialog].ask(ctx, state)
        return await self._settle(ctx, state, messages)

    async def _with_dialog_reminder(self, ctx: Context, messages: list[Outbound]):
        state = await load_dialog(ctx.conn, ctx.inbound.channel, ctx.inbound.sender_id)
        if state is None or state.dialog == MENU:
            return messages
        return messages + await self._ask(ctx, state)

    async def _settle(
        self, ctx: Context, state: DialogState | None, messages: list[Outbound]
    ) -> list[Outbound]:
        """Save the dialog state; stamp the last question's options with a fresh nonce.

        The nonce makes a button from an earlier question stale, even when its data would be
        valid now (every field offers "giữ nguyên"). It also marks the reply that asks the
        question (``Outbound.asks``: the one with its options, else the last to the sender),
        which a channel gives back when it could not deliver it (:meth:`undelivered`).
        """
        inbound = ctx.inbound
        ctx.settled = True
        asked = next((i for i in range(len(messages) - 1, -1, -1) if messages[i].options), None)
        nonce = secrets.token_hex(3)
        if state is None:
            question = messages[asked] if asked is not None else None
            if question is not None and is_menu(question.options):
                messages[asked] = replace(question, asks=nonce)
                await save_dialog(ctx.conn, inbound.channel, inbound.sender_id,
                                  menu_state(question.options, question.free_input, nonce),
                                  ctx.now)
            else:
                await clear_dialog(ctx.conn, inbound.channel, inbound.sender_id)
            await self._release(ctx)
            return messages
        if asked is not None:
            question = messages[asked]
            state.draft["_ask"] = {
                "nonce": nonce,
                "free": question.free_input,
                "options": [[o.label, o.data, list(o.aliases)] for o in question.options],
            }
            messages[asked] = replace(question.with_options(
                *(Option(o.label, f"{nonce}.{o.data}", o.aliases) for o in question.options)
            ), asks=nonce)
        else:
            # A question without options (a name, a note): a pressed button is stale.
            state.draft["_ask"] = {"nonce": nonce, "free": True, "options": []}
            last = next((i for i in range(len(messages) - 1, -1, -1)
                         if messages[i].chat_id is None), None)
            if last is not None:
                messages[last] = replace(messages[last], asks=nonce)
        busy = not _passive(state)
        await save_dialog(ctx.conn, inbound.channel, inbound.sender_id, state, ctx.now,
                          busy=busy)
        if not busy:
            await self._release(ctx)
        return messages

    async def _release(self, ctx: Context) -> None:
        """Work under way has ended (the dialog is over, or only shows a list or a card):
        what the bot held back for it may go now, outside the quiet hours."""
        if ctx.in_dialog:
            ctx.in_dialog = False
            await release_held(ctx.conn, ctx.person.id, at=ctx.now,
                               not_before=self.config.calendar.next_sending_time(
                                   ctx.now.astimezone(self.config.timezone)))


async def _use_code(ctx: Context, text: str) -> tuple[DialogState | None, list[Outbound]]:
    """A code typed alone or after /start: a linking code by its shape (three groups of
    three), otherwise an invite (handlers/router.py); with the dialog it opens, if any (an
    enrolled person confirming a second role, handlers/enrol.py)."""
    if looks_like_link_code(text):
        return None, await link.use(ctx, text)
    return await enrol.start(ctx, text)


def _starts_again(state: DialogState, command: Command) -> bool:
    """Whether ``command`` starts the dialog again: it is the command that opened it, the
    dialog shows a list to choose from, and nothing was answered since (module doc)."""
    ask = state.draft.get("_ask") or {}
    return (command.name == state.draft.get(OPENED_BY) and not ask.get("free", True)
            and not state.draft.get(ANSWERED))


def _chose_stop(inbound: Inbound, state: DialogState) -> bool:
    """Whether the message presses (or types) the busy answer's «Dừng việc đang làm»."""
    ask = state.draft.get("_ask") or {}
    if not any(data == STOP for _, data, _ in ask.get("options", ())):
        return False
    if inbound.option is not None:
        return inbound.option == f"{ask.get('nonce', '')}.{STOP}"
    return _typed_option(inbound.text, ask) == STOP


def _prefixed(text: str, messages: list[Outbound]) -> list[Outbound]:
    """``text`` on top of the first message (one message: the busy notice, the question
    again and its buttons), or alone before an attachment."""
    first = messages[0] if messages else None
    if first is None or first.image is not None or first.document is not None or \
            first.deferred is not None:
        return [Outbound(text)] + messages
    return [replace(first, text=f"{text}\n\n{first.text}" if first.text else text),
            *messages[1:]]


def _passive(state: DialogState) -> bool:
    """True when another command simply ends this dialog (nothing typed would be lost): the
    dialog's ``PASSIVE``, a flag or a function of its state (a list, not a half-filled form)."""
    passive = getattr(DIALOGS[state.dialog], "PASSIVE", False)
    return bool(passive(state) if callable(passive) else passive)


def _own_cancel(state: DialogState) -> bool:
    """True when a cancel word typed without the slash («huy», «hủy bỏ») is the current
    question's «❌ Hủy» button, as the dialog's ``OWN_CANCEL`` (a flag or a function of the
    state) says: a sub-form whose «Hủy» goes back a step. ``/huy`` always stops everything."""
    own = getattr(DIALOGS[state.dialog], "OWN_CANCEL", False)
    return bool(own(state) if callable(own) else own)


def _cancelled(state: DialogState | None) -> str:
    """What ``/huy`` says: nothing to cancel; cancelled, nothing saved; or what the dialog
    has saved before (its ``saved(state)``: one phrase per thing saved), and that the part
    under way, if the dialog is not just showing a list (``PASSIVE``), is not saved."""
    if state is None:
        return t("core.nothing_to_cancel")
    saved = getattr(DIALOGS[state.dialog], "saved", None)
    done = saved(state) if saved is not None else []
    if not done:
        return t("core.cancelled")
    key = "core.closed_saved" if _passive(state) else "core.cancelled_saved"
    return t(key, saved="\n".join(f"• {line}" for line in done))


def _typed_option(text: str, ask: dict) -> str | None:
    """The option a typed text chooses (the first, when it fits several)."""
    chosen = _typed_options(text, ask)
    return chosen[0] if chosen else None


def _typed_options(text: str, ask: dict) -> list[str]:
    """The options a typed text may choose: its number in a list; else those whose label
    (without the emoji, without a «(118)» after it) or an alias it is; else those whose
    label before a colon it is («báo cáo ngay» for «📝 Báo cáo ngay: Báo cáo tháng 11/2026»).
    """
    typed = plain(text)
    if not typed:
        return []
    options = ask["options"]
    if not ask["free"] and typed.isascii() and typed.isdigit() and 1 <= int(typed) <= len(options):
        return [options[int(typed) - 1][1]]
    exact = [data for label, data, aliases in options
             if typed in (plain(label), plain(label.split("(")[0])) or typed in aliases]
    if exact:
        return exact
    return [data for label, data, _ in options
            if ":" in label and typed == plain(label.split(":")[0])]
