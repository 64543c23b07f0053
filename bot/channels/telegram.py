"""The Telegram adapter: the only module that imports ``telegram`` (python-telegram-bot 22).

It only translates, like RapidPro courier's Telegram handler: an ``Update`` becomes an
``Inbound`` (:func:`to_inbound`), the core answers, and each ``Outbound`` becomes a Bot API call
(:func:`send`, with options as an inline keyboard from :func:`to_markup`). Telegram's errors
become the channel-neutral vocabulary of :mod:`common.delivery`.

One ``TypeHandler(Update, …)`` receives every update; :class:`PerChatUpdateProcessor` runs
updates of different chats concurrently and those of one chat in arrival order. Updates are
stored before Telegram forgets them (:class:`TelegramInbox`, the inbox Zalo's events use), so
an update being processed when the process is killed is processed at the next start, once.

At start-up ``getMe`` checks the token before anything else starts (:func:`check_bot`): a token
Telegram refuses, a Bot API that cannot be reached (after a few tries) or a ``base_url`` that
does not answer as the Bot API ends the start with one line saying what to check.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import warnings
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
from telegram import (
    BotCommand,
    CallbackQuery,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, InlineKeyboardButtonLimit, MessageLimit
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    ContextTypes,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from bot.channels.redact import guard_secret, redact
from bot.channels.signals import stop_on_signals
from bot.channels.split import split_text as split_lines
from bot.channels.split import utf16_units
from common.catalogue import t
from common.config import Config, ConfigError
from common.delivery import (
    ChatNotFound,
    DeliveryError,
    Misconfigured,
    RecipientBlocked,
    Throttled,
    Transient,
)
from common.messages import Inbound, Outbound
from storage import inbox, outbox
from storage.inbound import first_delivery_statement

if TYPE_CHECKING:
    from handlers.core import Core

log = logging.getLogger(__name__)

CHANNEL = "telegram"
TEXT_LIMIT = MessageLimit.MAX_TEXT_LENGTH  # 4096, counted in UTF-16 code units
CAPTION_LIMIT = MessageLimit.CAPTION_LENGTH  # 1024
CALLBACK_DATA_LIMIT = InlineKeyboardButtonLimit.MAX_CALLBACK_DATA  # 64 bytes
SHORT_LABEL = 18  # labels up to this many characters sit two to a row
# What the bot asks getUpdates for. edited_message: to tell a person that an edit is not read;
# my_chat_member: "For private chats, this update is received only when the bot is blocked or
# unblocked by the user" (Bot API: Update), and in groups when the bot is added or removed.
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member")
GROUP_NOTE_INTERVAL = 600.0  # seconds: a group hears «private chats only» at most this often
_REMEMBERED = 10_000  # edits noted and groups told, remembered in memory at most
MAX_THROTTLE_WAIT = 60.0  # seconds a reply waits for a 429 before it is given up
REPLY_BACKOFF = 0.5  # seconds before a failed reply's second try; doubles for each further one
START_TRIES = 3  # getMe at start-up: tries when the Bot API cannot be reached
START_BACKOFF = 0.5  # seconds before the second try; doubles for each further one
_UNBOUNDED = 1_000_000


def _short(text: str, limit: int = 160) -> str:
    """``text`` on one line and at most ``limit`` characters (an HTML page in an error)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


# ---- reading the Bot API's answers -----------------------------------------------------------


class NotBotApi(TelegramError):
    """An answer that is not the Bot API's JSON: a web page, a proxy's error, another server."""


class BotApiRequest(HTTPXRequest):
    """python-telegram-bot's HTTPXRequest, reading answers more carefully.

    PTB's ``BaseRequest.parse_json_payload`` logs an answer that is not JSON with a traceback
    («Can not load invalid JSON data») before it raises, and takes any JSON object for an
    answer (``post`` then fails with a ``KeyError`` when ``result`` is missing). Its
    documentation invites overriding it ("You can override it to customize either of these
    behaviors"): here an answer that is not the Bot API's — not a JSON object with a boolean
    ``ok`` and, when ok, a ``result`` ("The response contains a JSON object, which always has
    a Boolean field 'ok'", Bot API: Making requests) — raises :class:`NotBotApi` with the
    start of what came, and nothing is logged: the caller decides.
    """

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        text = payload.decode("utf-8", "replace")
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if (not isinstance(data, dict) or not isinstance(data.get("ok"), bool)
                or (data["ok"] and "result" not in data)):
            raise NotBotApi(f"an answer that is not the Bot API's: «{_short(text, 80)}»")
        return data


class _HandledRetryAfter(logging.Filter):
    """Drops AIORateLimiter's «Rate limit hit after maximum of 0 retries» record, which carries
    a traceback for every 429: each RetryAfter is handled here (a reply waits and is sent
    again, the dispatcher pauses the channel) and logged once, in one line, by :func:`_call`."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], RetryAfter))


# ---- Update -> Inbound ----------------------------------------------------------------------


def to_inbound(update: Update) -> Inbound | None:
    """The neutral message in ``update``, or None for updates the bot ignores.

    Only new messages and button presses of people in their private chat with the bot count.
    Ignored: groups, supergroups and channels (the bot's answers show an area's figures, which
    a group's other members must not see; :func:`make_handler` may post a note there), edits
    (:func:`make_handler` says so), service messages (a pinned message, an auto-delete timer:
    ``filters.StatusUpdate.ALL``), messages of bots, buttons of inline messages. A caption is
    read as the message's text, with its kind (``image``, else ``unsupported``).
    ``message_id`` is the update id, so the core recognises an update that Telegram delivers
    twice.
    """
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE:
        return None
    common = {
        "channel": CHANNEL,
        "sender_id": str(user.id),
        "chat_id": str(chat.id),
        "message_id": str(update.update_id),
        "display_name": user.full_name,
    }
    query = update.callback_query
    if query is not None:
        if query.data is None:  # a game button: nothing we offered
            return None
        return Inbound(**common, option=query.data, kind="option")
    message = update.message
    if message is None or filters.StatusUpdate.ALL.check_update(update):
        return None
    received_at = message.date
    if message.text is not None:
        return Inbound(**common, text=message.text, received_at=received_at)
    caption = message.caption or ""
    if message.photo or (
        message.document is not None
        and (message.document.mime_type or "").startswith("image/")
    ):
        kind = "image"
    elif message.sticker is not None:
        kind = "sticker"
    else:
        kind = "unsupported"
    phone = None
    if message.contact is not None and message.contact.user_id == user.id:
        phone = message.contact.phone_number  # the person shared their own number
    return Inbound(**common, text=caption, phone=phone, received_at=received_at, kind=kind)


# ---- Outbound -> Bot API calls --------------------------------------------------------------


def callback_data(data: str) -> str:
    """``data`` cut to Telegram's 64 bytes on a character boundary.

    A cut value no longer matches what the core offered, so pressing it is answered as a stale
    button: safe, never a wrong action. The core's data ("a1b2c3.fix:10") is far shorter.
    """
    encoded = data.encode("utf-8")
    if len(encoded) <= CALLBACK_DATA_LIMIT:
        return data
    log.warning("callback data of %d bytes cut to %d", len(encoded), CALLBACK_DATA_LIMIT)
    return encoded[:CALLBACK_DATA_LIMIT].decode("utf-8", errors="ignore")


def to_markup(outbound: Outbound) -> InlineKeyboardMarkup | None:
    """The options of ``outbound`` as an inline keyboard: two short buttons a row, else one."""
    if not outbound.options:
        return None
    buttons = [
        InlineKeyboardButton(option.label, callback_data=callback_data(option.data))
        for option in outbound.options
    ]
    per_row = 2 if all(len(o.label) <= SHORT_LABEL for o in outbound.options) else 1
    return InlineKeyboardMarkup(
        [buttons[i:i + per_row] for i in range(0, len(buttons), per_row)]
    )


def _units(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji counts two)."""
    return utf16_units(text)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """``text`` in pieces of at most ``limit`` units, cut at paragraph or line ends where
    possible (:func:`bot.channels.split.split_text`)."""
    return split_lines(text, limit)


def _retry_after(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the int form will become a timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def delivery_error(exc: TelegramError) -> DeliveryError:
    """The channel-neutral error for a Telegram error (order matters: BadRequest and TimedOut
    are NetworkErrors)."""
    message = _short(exc.message, 300)  # a proxy's HTML error page is not a log line
    if isinstance(exc, Forbidden):  # "bot was blocked by the user", "user is deactivated"
        return RecipientBlocked(message, channel=CHANNEL)
    if isinstance(exc, BadRequest) and "chat not found" in message.lower():
        # The bot cannot reach this chat: a person who never wrote to this bot (the token now
        # belongs to another bot) or an id that is no longer valid. Like a block, the person's
        # other messenger is tried, else the commune officer is told, and writing to the bot
        # again undoes it; as Misconfigured the reminder would simply fail. (RapidPro
        # courier's Telegram handler fails it with its reason; it has no other channel.)
        return ChatNotFound(message, channel=CHANNEL)
    if isinstance(exc, RetryAfter):
        return Throttled(_retry_after(exc), message, channel=CHANNEL)
    if isinstance(exc, BadRequest | InvalidToken | ChatMigrated | EndPointNotFound | Conflict):
        return Misconfigured(message, channel=CHANNEL)
    if isinstance(exc, TimedOut | NetworkError):
        return Transient(message, channel=CHANNEL)
    return Transient(message, channel=CHANNEL)


def not_delivered(exc: TelegramError) -> bool:
    """Whether the call certainly delivered nothing, so that making it again cannot send a
    message twice: the Bot API answered with a server error (PTB raises a ``NetworkError``
    for a 5xx answer, without a cause or from the failure to read the answer), or the
    connection could not be made (``httpx.ConnectError``). After a time-out, or a connection
    lost once the request was on its way, the message may have arrived."""
    if not isinstance(exc, NetworkError) or isinstance(exc, TimedOut | BadRequest):
        return False
    cause = exc.__cause__
    return cause is None or isinstance(cause, TelegramError | httpx.ConnectError)


class TokenPause:
    """The pause a 429 puts on every call of the bot's token until its «retry after» ends."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic):
        self.monotonic = monotonic
        self.until = 0.0

    def remaining(self) -> float:
        """Seconds the token still waits (0: calls may go)."""
        return max(0.0, self.until - self.monotonic())

    def pause(self, seconds: float) -> None:
        self.until = max(self.until, self.monotonic() + seconds)

    async def wait(self) -> None:
        """Until the pause is over; a further 429 meanwhile lengthens it."""
        left = self.remaining()
        while left > 0:
            await asyncio.sleep(left)
            left = self.remaining()


class PausingRateLimiter(AIORateLimiter):
    """python-telegram-bot's AIORateLimiter, with one pause for the whole token after a 429.

    With ``max_retries=0`` (ours: the dispatcher schedules its own retries) AIORateLimiter
    hands a RetryAfter to its caller and lets every other request go on, both those already
    waiting in its limiter and new ones. Telegram's «retry after» is about the bot's token,
    so after the first 429 no call may start until it has passed: each call here waits for
    the pause right before its HTTP request starts (``process_request`` wraps the callback it
    is given, as BaseRateLimiter's documentation describes). Calls already under way when the
    429 comes cannot be stopped; ``getUpdates`` is never rate limited (ExtBot).
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.pause = TokenPause()

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        async def gated(*a: Any, **kw: Any) -> Any:
            await self.pause.wait()
            try:
                return await callback(*a, **kw)
            except RetryAfter as exc:
                self.pause.pause(_retry_after(exc))
                raise

        return await super().process_request(gated, args, kwargs, endpoint, data,
                                              rate_limit_args)


def token_pause(bot) -> TokenPause | None:
    """The pause of ``bot``'s token, when its rate limiter keeps one (the application's)."""
    return getattr(getattr(bot, "rate_limiter", None), "pause", None)


async def _call(request: Callable[[], Awaitable[Any]], wait_throttled: float,
                pause: TokenPause | None = None, retries: int = 0) -> Any:
    """Make one API call; wait once for a 429 of at most ``wait_throttled`` seconds; make it
    up to ``retries`` more times, with a growing pause, while it fails having delivered
    nothing (:func:`not_delivered`). While the token is paused for longer than
    ``wait_throttled``, raise :class:`Throttled` without calling."""
    throttled = tried = 0
    while True:
        left = pause.remaining() if pause is not None else 0.0
        if left > wait_throttled:
            raise Throttled(left, f"Telegram asked to wait (429); {left:.1f} s left",
                            channel=CHANNEL)
        try:
            return await request()
        except RetryAfter as exc:
            error = delivery_error(exc)
            waits = not throttled and error.retry_after <= wait_throttled
            log.warning("Telegram: too many requests (429), retry after %g s%s",
                        error.retry_after, "; waiting" if waits else "")
            if not waits:
                raise error from exc
            throttled += 1
            await asyncio.sleep(error.retry_after)
        except TelegramError as exc:
            if tried < retries and not_delivered(exc):
                tried += 1
                log.info("Telegram: %s; trying again (%d of %d)", _short(exc.message),
                         tried, retries)
                await asyncio.sleep(REPLY_BACKOFF * 2 ** (tried - 1))
                continue
            raise delivery_error(exc) from exc


def _chat(chat_id: str | int) -> str | int:
    try:
        return int(chat_id)
    except (TypeError, ValueError):
        return chat_id  # "@channelname"


async def send(bot, chat_id: str | int, outbound: Outbound, *, wait_throttled: float = 0,
               retries: int = 0) -> None:
    """Send ``outbound`` to ``chat_id``: a photo, a document or text, with its keyboard.

    Texts longer than a message are split at line ends; the keyboard goes with the last piece.
    Raises a :class:`DeliveryError` subclass when Telegram refuses; a call throttled for at most
    ``wait_throttled`` seconds is first tried once more (the dispatcher passes 0 and schedules
    the retry itself), a call that failed having delivered nothing up to ``retries`` more
    times (a reply; the outbox retries on its own schedule).
    """
    chat = _chat(chat_id)
    pause = token_pause(bot)
    markup = to_markup(outbound)
    text = outbound.text
    attachment = outbound.image is not None or outbound.document is not None
    caption = text if attachment and _units(text) <= CAPTION_LIMIT else ""
    pieces = split_text(text) if text.strip() and not caption else []
    if outbound.image is not None:
        await _call(lambda: bot.send_photo(
            chat, photo=outbound.image, caption=caption or None, filename="chart.png",
            reply_markup=None if pieces else markup,
        ), wait_throttled, pause, retries)
    if outbound.document is not None:
        await _call(lambda: bot.send_document(
            chat, document=outbound.document, caption=caption or None,
            filename=outbound.filename or "document",
            reply_markup=None if pieces or outbound.image is not None else markup,
        ), wait_throttled, pause, retries)
    for n, piece in enumerate(pieces):
        keyboard = markup if n == len(pieces) - 1 else None
        await _call(lambda piece=piece, keyboard=keyboard: bot.send_message(
            chat, piece, reply_markup=keyboard,
        ), wait_throttled, pause, retries)


class TelegramSender:
    """The dispatcher's way to send on Telegram (``scheduler.dispatcher.Sender``).

    Throttling is not waited for here: the dispatcher pauses the whole channel for
    ``retry_after`` and puts the message back in the queue.
    """

    channel = CHANNEL

    def __init__(self, bot, config: Config):
        self.bot = bot
        self.rate = config.telegram.overall_max_rate
        self.per_chat_interval = config.telegram.per_chat_interval

    async def send(self, chat_id: str, message: Outbound) -> None:
        """Deliver ``message`` or raise a channel-neutral delivery error."""
        await send(self.bot, chat_id, message, wait_throttled=0)


async def deliver_replies(bot, chat_id: str, replies: Sequence[Outbound], *,
                          retries: int = 0) -> list[Outbound]:
    """Send the core's replies in order; a chat that fails gets none of its later replies.
    Returns the replies not delivered (for :meth:`Core.undelivered`).

    A short 429 is waited for; a call that failed having delivered nothing is made up to
    ``retries`` more times at once, with a growing pause (0.5 s, 1 s, …: the person is
    waiting for the answer, and the chat's next message waits behind it, so the order
    stays). Other failures are not retried: after a time-out the message may well have
    arrived, and twice would be worse; the core asks the question again at the next answer.
    """
    failed: set[str] = set()
    undelivered: list[Outbound] = []
    for reply in replies:
        target = reply.chat_id or chat_id
        if target in failed:
            undelivered.append(reply)
            continue
        try:
            await send(bot, target, reply, wait_throttled=MAX_THROTTLE_WAIT, retries=retries)
        except DeliveryError as exc:
            failed.add(target)
            undelivered.append(reply)
            log.warning("reply to Telegram chat %s not delivered: %s: %s",
                        target, type(exc).__name__, exc)
    return undelivered


# ---- the inbox: store first ------------------------------------------------------------------


def _chat_of(update: dict) -> str:
    """The chat an update's message, button or membership change is in (for the inbox row)."""
    for kind in ("message", "edited_message", "callback_query", "my_chat_member"):
        part = update.get(kind)
        if isinstance(part, dict):
            chat = part.get("chat") or (part.get("message") or {}).get("chat") or \
                part.get("from")
            if isinstance(chat, dict) and chat.get("id") is not None:
                return str(chat["id"])
    return ""


class TelegramInbox:
    """Updates stored before python-telegram-bot's polling confirms them to Telegram.

    PTB confirms updates before they are processed: ``Updater._start_polling`` puts the
    updates of one ``getUpdates`` answer into ``Application.update_queue`` and at once (our
    ``poll_interval`` is 0) calls ``getUpdates`` again with ``offset`` = the last update id + 1
    — and "an update is considered confirmed as soon as getUpdates is called with an offset
    higher than its update_id" (Bot API: getUpdates); ``Application`` processes the updates
    meanwhile, in tasks of their own (``concurrent_updates``). Only a clean stop waits for
    them (``Application.stop``). An update being processed at a hard kill, or a power cut,
    has been confirmed, and Telegram never sends it again.

    So every ``getUpdates`` answer is stored in the inbox (:mod:`storage.inbox`, as Zalo's
    events are) before PTB sees it (:class:`InboxRequest`): its next ``getUpdates``, the
    confirmation, starts only once the updates are on disk. The transaction that processes an
    update also removes it (the core's, or one of its own for the updates the core does not
    see); those still there at start-up are processed first (:meth:`recover`). An update that
    Telegram sends again (it was stored, the kill came before the confirmation) is recognised
    by its id, stored or processed, and is not processed twice (:meth:`take`).
    """

    def __init__(self, core: Core):
        self.core = core
        self._fresh: set[str] = set()  # stored now, not yet taken for processing

    async def store(self, updates: Sequence[object]) -> None:
        """Store a ``getUpdates`` answer (the Bot API's update objects, as received)."""
        rows = [(str(u["update_id"]), _chat_of(u), json.dumps(u, ensure_ascii=False))
                for u in updates if isinstance(u, dict) and isinstance(u.get("update_id"), int)]
        if not rows:
            return
        async with self.core.db.write(durable=True) as conn:
            new = await inbox.store(conn, CHANNEL, rows, self.core.clock())
        self._fresh.update(new)

    def take(self, update: Update) -> bool:
        """Whether ``update`` is to be processed now: stored by this process (or recovered)
        and not taken yet. False for one received again (already stored, or processed)."""
        key = str(update.update_id)
        if key in self._fresh:
            self._fresh.discard(key)
            return True
        return False

    @staticmethod
    def settling(update: Update) -> list[tuple[str, tuple]]:
        """The statements that mark ``update`` processed, for its own transaction."""
        return [inbox.settle_statement(CHANNEL, str(update.update_id))]

    async def settle(self, update: Update, now) -> None:
        """Mark processed an update the core did not see (an edit, a membership change, a
        group's message): removed from the inbox and remembered as processed."""
        key = str(update.update_id)
        async with self.core.db.write_opening(inbox.settle_statement(CHANNEL, key),
                                              first_delivery_statement(CHANNEL, key, now)):
            pass

    async def recover(self, application: Application) -> int:
        """Queue the updates stored before a stop or a crash but not processed then, ahead of
        any new one; return how many."""
        async with self.core.db.read() as conn:
            rows = await inbox.waiting(conn, CHANNEL)
        unreadable = []
        for message_id, _, payload in rows:
            try:
                update = Update.de_json(json.loads(payload), application.bot)
            except Exception:  # noqa: BLE001  (stored by a version that read it otherwise)
                log.warning("Telegram: a stored update %s cannot be read; dropped", message_id)
                unreadable.append(message_id)
                continue
            self._fresh.add(message_id)
            await application.update_queue.put(update)
        if unreadable:
            async with self.core.db.write() as conn:
                for message_id in unreadable:
                    await inbox.settle(conn, CHANNEL, message_id)
        if rows:
            log.info("Telegram: processing %d update(s) received before the restart", len(rows))
        return len(rows) - len(unreadable)


class InboxRequest(BotApiRequest):
    """The request ``getUpdates`` goes through (``ApplicationBuilder.get_updates_request``):
    the updates of each answer are stored (:class:`TelegramInbox`) before PTB reads them.

    ``BaseRequest.post`` is the public method every call goes through. When the updates cannot
    be stored (the database is locked), the answer counts as a failed ``getUpdates``: PTB's
    polling loop logs it (our ``error_callback``) and tries again after a growing pause (1 s,
    up to 30 s), with the same ``offset``, so that Telegram keeps the updates meanwhile.
    """

    def __init__(self, store: Callable[[Sequence[object]], Awaitable[None]], **kwargs: Any):
        super().__init__(**kwargs)
        self._store = store

    async def post(self, url: str, request_data=None, *args: Any, **kwargs: Any):
        result = await super().post(url, request_data, *args, **kwargs)
        if isinstance(result, list) and result:
            try:
                await self._store(result)
            except Exception as exc:
                log.debug("Telegram: storing updates failed", exc_info=True)
                raise NetworkError(f"the updates received could not be stored "
                                   f"({type(exc).__name__}: {exc}); they are fetched "
                                   "again") from exc
        return result


# ---- the handler ----------------------------------------------------------------------------


async def _settle_button(query: CallbackQuery, *, keyboard: bool = True) -> None:
    """Stop the button's spinner and (``keyboard``) take the keyboard off the message that
    carried it. Every press is answered, also one the bot ignores: "the clients will display a
    progress bar until you call answerCallbackQuery" (Bot API: CallbackQuery)."""
    tasks = [query.answer()]
    if keyboard and isinstance(query.message, Message) and query.message.reply_markup is not None:
        tasks.append(query.edit_message_reply_markup(reply_markup=None))
    for result in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(result, TelegramError):  # e.g. "query is too old", "not modified"
            log.info("callback query %s: %s", query.id, result.message)
        elif isinstance(result, BaseException):
            raise result


async def _tell(bot, chat_id: int, text: str) -> None:
    """One message that needs no answer; a refusal is logged, not raised."""
    try:
        await send(bot, chat_id, Outbound(text))
    except DeliveryError as exc:
        log.info("Telegram: could not tell chat %s: %s", chat_id, exc.message)


def _calls_the_bot(message: Message, bot) -> bool:
    """A group message meant for the bot: a command at its start for no other bot, a mention
    of the bot's @username, or a reply to one of its messages (what a bot in privacy mode
    hears in a group, Bot API: Privacy mode)."""
    username = (bot.username or "").lower()
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
        return True
    found = {**message.parse_entities([MessageEntity.BOT_COMMAND, MessageEntity.MENTION]),
             **message.parse_caption_entities([MessageEntity.BOT_COMMAND,
                                               MessageEntity.MENTION])}
    for entity, text in found.items():
        if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
            target = text.partition("@")[2].lower()
            if not target or target == username:
                return True
        elif entity.type == MessageEntity.MENTION and text[1:].lower() == username:
            return True
    return False


def _remember(memory: dict, key: Any, value: Any) -> None:
    memory[key] = value
    if len(memory) > _REMEMBERED:
        del memory[next(iter(memory))]  # the oldest


class _Gate:
    """What the handler does with the updates the core does not see (:func:`to_inbound` gives
    None): groups, the bot's membership, edits. Remembers, in memory, the edits it answered
    and when it last told each group."""

    def __init__(self, core: Core):
        self.core = core
        self.noted_edits: dict[tuple[int, int], None] = {}
        self.groups_told: dict[int, float] = {}

    async def on_member(self, change: ChatMemberUpdated, bot) -> None:
        """The bot blocked or unblocked by a person, or added to a group or a channel."""
        status = change.new_chat_member.status
        chat, user = change.chat, change.from_user
        if chat.type == ChatType.PRIVATE:
            async with self.core.db.write() as conn:
                if status == ChatMemberStatus.BANNED:  # "kicked": the person blocked the bot
                    await outbox.mark_blocked(conn, CHANNEL, str(user.id), self.core.clock())
                    log.info("Telegram: user %s blocked the bot", user.id)
                elif status == ChatMemberStatus.MEMBER:  # unblocked (or pressed Start again)
                    if await outbox.clear_blocked(conn, CHANNEL, str(user.id)):
                        log.info("Telegram: user %s unblocked the bot", user.id)
            return
        if status not in (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR):
            log.info("Telegram: the bot is no longer in the %s %s", chat.type, chat.id)
            return
        # The bot answers private chats only; in a group it would hear commands it must not
        # answer there. It says why (not in a channel: that would be a post to every
        # subscriber) and leaves. BotFather's /setjoingroups can forbid adding it at all.
        log.info("Telegram: added to the %s %s by user %s; leaving it (private chats only)",
                 chat.type, chat.id, user.id)
        if chat.type != ChatType.CHANNEL:
            await _tell(bot, chat.id, t("telegram.leaving_group", username=bot.username))
            _remember(self.groups_told, chat.id, time.monotonic())
        try:
            await bot.leave_chat(chat.id)
        except TelegramError as exc:
            log.info("Telegram: could not leave the %s %s: %s", chat.type, chat.id,
                     exc.message)

    async def on_edit(self, message: Message, bot) -> None:
        """An edited message is not read as a new answer: the core has taken the message as
        first sent, and Telegram says an edit may even come for "changes to message fields
        that are either unavailable or not actively used by your bot" (Bot API: Update,
        edited_message). A person who edits a text (or a caption) in the private chat is told
        once per message that the edit is not read, so nobody believes a figure was
        corrected; other edits (a live location moving) get no answer."""
        user = message.from_user
        if (message.chat.type != ChatType.PRIVATE or user is None or user.is_bot
                or (message.text is None and message.caption is None)):
            log.debug("Telegram: ignored an edit in chat %s", message.chat.id)
            return
        key = (message.chat.id, message.message_id)
        if key in self.noted_edits:
            return
        _remember(self.noted_edits, key, None)
        log.info("Telegram: user %s edited message %s; the edit is not read", user.id,
                 message.message_id)
        await _tell(bot, message.chat.id, t("telegram.edit_not_read"))

    async def on_ignored(self, update: Update, bot) -> None:
        """An update :func:`to_inbound` ignores: logged; a group that calls the bot is told,
        at most every ``GROUP_NOTE_INTERVAL`` seconds, that it answers in private only."""
        chat, message = update.effective_chat, update.message
        if chat is None or chat.type == ChatType.PRIVATE:
            log.debug("Telegram: ignored update %s", update.update_id)
            return
        log.info("Telegram: ignored update %s in the %s %s (private chats only)",
                 update.update_id, chat.type, chat.id)
        if (message is None or chat.type == ChatType.CHANNEL or message.from_user is None
                or message.from_user.is_bot or not _calls_the_bot(message, bot)):
            return
        now = time.monotonic()
        if now - self.groups_told.get(chat.id, -GROUP_NOTE_INTERVAL) < GROUP_NOTE_INTERVAL:
            return
        _remember(self.groups_told, chat.id, now)
        await _tell(bot, chat.id, t("telegram.private_only", username=bot.username))


def make_handler(core: Core, stored: TelegramInbox | None = None) -> TypeHandler:
    """The one handler: every update of a person in a private chat goes through the core.
    With ``stored`` (the inbox the updates were stored in), an update is processed once and
    removed from the inbox by the transaction that processes it."""
    gate = _Gate(core)

    async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Turns the update into an Inbound, lets the core answer, and sends the replies."""
        if stored is not None and not stored.take(update):
            log.info("Telegram: update %s received again; ignored", update.update_id)
            return
        inbound = to_inbound(update)
        if update.callback_query is not None:
            await _settle_button(update.callback_query, keyboard=inbound is not None)
        if inbound is None:
            if update.my_chat_member is not None:
                await gate.on_member(update.my_chat_member, context.bot)
            elif update.edited_message is not None:
                await gate.on_edit(update.edited_message, context.bot)
            else:
                await gate.on_ignored(update, context.bot)
            if stored is not None:
                await stored.settle(update, core.clock())
            return
        replies = await core.handle(
            inbound, settle=stored.settling(update) if stored else None,
            on_busy=lambda notice: deliver_replies(context.bot, inbound.chat_id, notice))
        undelivered = await deliver_replies(context.bot, inbound.chat_id, replies,
                                            retries=core.config.telegram.transient_retries)
        if undelivered:
            await core.undelivered(inbound, undelivered)

    return TypeHandler(Update, on_update)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Logs an error that escaped the handler, with its traceback."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("error while handling Telegram update %s", update_id, exc_info=context.error)


# ---- concurrency ----------------------------------------------------------------------------


def _chat_key(update: object) -> tuple[str, int] | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    return None


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Up to N updates at once across chats; the updates of one chat strictly in order.

    Application starts one task per update, in arrival order. Each task first waits for its
    chat's lock (asyncio locks are fair: first come, first served), then for one of the N
    places. An update waiting behind an earlier one of its chat holds no place, so a chat that
    sends a burst never keeps other chats waiting. Locks of idle chats are dropped.
    """

    __slots__ = ("_limit", "_locks", "_places", "_running")

    def __init__(self, max_concurrent_updates: int):
        if max_concurrent_updates < 1:
            raise ValueError("max_concurrent_updates must be a positive integer")
        # The base class sizes its semaphore, which counts waiting updates too, by
        # max_concurrent_updates; while _limit is unset that reads as unbounded.
        super().__init__(max_concurrent_updates)
        self._limit = max_concurrent_updates
        self._places = asyncio.Semaphore(max_concurrent_updates)
        self._running = 0
        self._locks: dict[tuple[str, int], tuple[asyncio.Lock, list[int]]] = {}

    @property
    def max_concurrent_updates(self) -> int:
        """At most this many updates run at once."""
        return getattr(self, "_limit", _UNBOUNDED)

    @property
    def current_concurrent_updates(self) -> int:
        """Updates running now (not counting those waiting for their chat)."""
        return self._running

    @property
    def busy_chats(self) -> int:
        """Chats with an update running or waiting."""
        return len(self._locks)

    async def _run(self, coroutine: Awaitable[Any]) -> None:
        async with self._places:
            self._running += 1
            try:
                await coroutine
            finally:
                self._running -= 1

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_key(update)
        if key is None:
            await self._run(coroutine)
            return
        lock, waiting = self._locks.setdefault(key, (asyncio.Lock(), [0]))
        waiting[0] += 1
        try:
            async with lock:
                await self._run(coroutine)
        finally:
            waiting[0] -= 1
            if waiting[0] == 0:
                del self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free: Application.stop() has already waited for running updates."""


# ---- the application ------------------------------------------------------------------------


def bot_commands() -> list[tuple[str, str]]:
    """The command menu Telegram shows next to the text box."""
    return [
        ("baocao", t("telegram.command.baocao")),
        ("baocao6thang", t("telegram.command.baocao6thang")),
        ("baocaonam", t("telegram.command.baocaonam")),
        ("lich", t("telegram.command.lich")),
        ("thongbao", t("telegram.command.thongbao")),
        ("thongke", t("telegram.command.thongke")),
        ("huy", t("telegram.command.huy")),
        ("toi", t("telegram.command.toi")),
        ("lienket", t("telegram.command.lienket")),
        ("help", t("telegram.command.help")),
    ]


async def _post_init(application: Application) -> None:
    """Publishes the Vietnamese command menu."""
    commands = [BotCommand(name, description) for name, description in bot_commands()]
    try:
        await application.bot.set_my_commands(commands)
    except TelegramError as exc:
        log.warning("could not set the Telegram command menu: %s", exc.message)


def _guard_token(token: str) -> None:
    """Keep the token out of the logs of httpx (request URLs) and PTB's bot (API URL)."""
    guard_secret(token, ("httpx", "telegram.Bot", "telegram.ext.ExtBot"))


def build_application(config: Config, core: Core,
                      stored: TelegramInbox | None = None) -> Application:
    """The python-telegram-bot Application, wired to ``core``; not started. With ``stored``,
    updates are stored there as they are fetched (store-first, :class:`TelegramInbox`)."""
    tg = config.telegram
    if not tg.token:
        raise Misconfigured("no Telegram token: set GIAMNGHEO_TELEGRAM_TOKEN", channel=CHANNEL)
    _guard_token(tg.token)
    rate_log = logging.getLogger("telegram.ext.AIORateLimiter")
    if not any(isinstance(f, _HandledRetryAfter) for f in rate_log.filters):
        rate_log.addFilter(_HandledRetryAfter())
    application = (
        ApplicationBuilder()
        .token(tg.token)
        .base_url(tg.base_url)
        .base_file_url(tg.base_file_url)
        # ApplicationBuilder's own defaults (256 connections for calls, 1 for getUpdates),
        # reading answers with BotApiRequest
        # Every call ends within request_timeout (PTB's defaults are 5 s each); an upload
        # gets HTTPXRequest's media_write_timeout (20 s) to send.
        .request(BotApiRequest(connection_pool_size=256, connect_timeout=tg.request_timeout,
                               read_timeout=tg.request_timeout,
                               write_timeout=tg.request_timeout))
        .get_updates_request(InboxRequest(stored.store, connection_pool_size=1)
                             if stored is not None else BotApiRequest(connection_pool_size=1))
        .rate_limiter(PausingRateLimiter(
            overall_max_rate=tg.overall_max_rate, group_max_rate=tg.group_max_rate,
        ))
        .concurrent_updates(PerChatUpdateProcessor(tg.concurrent_updates))
        .job_queue(None)  # reminders run in our own scheduler
        .post_init(_post_init)
        .build()
    )
    application.add_handler(make_handler(core, stored))
    application.add_error_handler(on_error)
    return application


async def check_bot(application: Application, config: Config,
                    stop: asyncio.Event | None = None) -> bool:
    """Initialise ``application``: ``getMe`` checks the token, tried ``START_TRIES`` times when
    the Bot API cannot be reached. False when ``stop`` was set meanwhile.

    What only a person can fix raises :class:`ConfigError` with one sentence naming what to
    check, so that the bot ends with that line and exit status 2, not a traceback. What PTB
    raises (``Bot.initialize`` calls ``get_me``; ``BaseRequest._request_wrapper``): 401
    «Unauthorized» and 404 «Not Found» (a malformed token) are ``InvalidToken``; a connection
    that fails is ``NetworkError``, a time-out ``TimedOut`` (a NetworkError), 5xx
    ``NetworkError``; an answer that is not the Bot API's is :class:`NotBotApi`
    (:class:`BotApiRequest`), or an error reading ``getMe``'s result.
    """
    tg = config.telegram
    custom = tg.base_url != type(tg).model_fields["base_url"].default
    reason, unreachable = "", True
    for attempt in range(START_TRIES):
        try:
            await application.initialize()
            return True
        except InvalidToken as exc:
            await application.bot.shutdown()
            # PTB's own message names the token: never shown. Its cause is the server's answer.
            cause = exc.__cause__
            said = _short(redact(cause.message if isinstance(cause, TelegramError) else "",
                                 tg.token), 80) or "Unauthorized"
            if isinstance(cause, NotBotApi) or isinstance(cause.__cause__ if cause else None,
                                                          NotBotApi):  # a 401/404 web page
                raise ConfigError(f"Telegram: {tg.base_url} does not answer as the Bot API "
                                  f"(getMe: {said}): check telegram.base_url") from None
            raise ConfigError(
                f"Telegram refused the bot token (getMe: {said}): check "
                "GIAMNGHEO_TELEGRAM_TOKEN (@BotFather › /mybots › API Token shows it)"
                + (" and telegram.base_url" if custom else "")) from None
        except NetworkError as exc:  # TimedOut, 5xx, no connection (BadRequest: not here)
            reason, unreachable = _short(redact(exc.message, tg.token), 100), True
        except NotBotApi as exc:
            reason, unreachable = exc.message, False
        except Exception as exc:  # getMe's result is not a bot: not the Bot API either
            log.debug("Telegram: getMe's answer could not be read", exc_info=True)
            reason, unreachable = f"getMe's result is not a bot: {type(exc).__name__}", False
        if attempt + 1 < START_TRIES:
            log.warning("Telegram: getMe failed (%s); trying again", reason)
            await asyncio.sleep(START_BACKOFF * 2 ** attempt)
            if stop is not None and stop.is_set():
                await application.bot.shutdown()
                return False
    await application.bot.shutdown()
    if unreachable:
        raise ConfigError(f"Telegram: the Bot API at {tg.base_url} cannot be reached "
                          f"({reason}): check telegram.base_url and the network")
    raise ConfigError(f"Telegram: {tg.base_url} does not answer as the Bot API ({reason}): "
                      "check telegram.base_url")


class _TokenRefusedWhilePolling(logging.Filter):
    """Notices that PTB's polling gave up because Telegram refused the token (revoked in
    @BotFather while the bot runs). PTB offers no callback for it: its polling loop logs
    «Invalid token. Aborting retry loop.» with the InvalidToken and ends
    (``telegram/ext/_utils/networkloop.py``; ``error_callback`` is not called for it), and the
    process would go on without hearing anyone. This filter, on PTB's ``telegram.ext``
    logger, drops that record and calls ``on_refused``, which stops the bot with one line."""

    def __init__(self, on_refused: Callable[[], None]):
        super().__init__()
        self.on_refused = on_refused

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], InvalidToken):
            self.on_refused()
            return False
        return True


def _on_polling_error(exc: TelegramError) -> None:
    """A failed ``getUpdates`` while polling, in one line: PTB's default logs each with its
    traceback ("Defaults to None, in which case errors will be logged", Updater.start_polling's
    ``error_callback``). PTB tries again itself, waiting up to 30 s."""
    if isinstance(exc, Conflict):  # "terminated by other getUpdates request", or a webhook
        log.error("Telegram: %s: another process polls with this bot's token, or a webhook is "
                  "set; stop the other one", _short(exc.message))
    else:
        log.warning("Telegram: getUpdates failed: %s: %s (trying again)", type(exc).__name__,
                    _short(exc.message))


async def run_polling(
    config: Config,
    core: Core,
    stop: asyncio.Event | None = None,
    on_started: Callable[[Any], Awaitable[Callable[[], Awaitable[None]]]] | None = None,
) -> None:
    """Poll Telegram for updates until ``stop`` is set or the process gets SIGINT/SIGTERM.

    The token is checked first (:func:`check_bot`); then ``on_started(bot)`` starts what else
    runs with the bot (Zalo, the chart workers, the reminders' delivery) and returns the
    coroutine function that stops it, called before the bot stops; then polling begins.
    """
    if stop is None:
        stop = asyncio.Event()
    stored = TelegramInbox(core)
    application = build_application(config, core, stored)
    loop = asyncio.get_running_loop()
    refused = asyncio.Event()

    def on_refused() -> None:
        loop.call_soon_threadsafe(refused.set)
        loop.call_soon_threadsafe(stop.set)

    watch = _TokenRefusedWhilePolling(on_refused)
    ptb_log = logging.getLogger("telegram.ext")
    with stop_on_signals(stop):
        if not await check_bot(application, config, stop):
            return
        ptb_log.addFilter(watch)
        try:
            stop_background = await on_started(application.bot) if on_started else None
            try:
                if application.post_init is not None:
                    await application.post_init(application)
                await application.start()
                await stored.recover(application)  # before anything new
                await application.updater.start_polling(
                    poll_interval=0,
                    timeout=config.telegram.poll_timeout,
                    drop_pending_updates=False,
                    allowed_updates=list(ALLOWED_UPDATES),
                    error_callback=_on_polling_error,
                )
                log.info("Telegram: polling as @%s", application.bot.username)
                await stop.wait()
                log.info("Telegram: stopping")
            finally:
                if stop_background is not None:
                    await stop_background()
                if application.updater.running:
                    try:
                        await application.updater.stop()
                    except TelegramError as exc:  # the polling's own end (a refused token)
                        log.debug("Telegram: polling had ended: %s", exc)
                if application.running:
                    await application.stop()
        finally:
            ptb_log.removeFilter(watch)
            await application.shutdown()
    if refused.is_set():
        raise ConfigError("Telegram refused the bot token while the bot was running (was it "
                          "revoked in @BotFather?): check GIAMNGHEO_TELEGRAM_TOKEN")
