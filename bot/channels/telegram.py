"""The Telegram adapter: the only module that imports ``telegram`` (python-telegram-bot 22).

It only translates, like RapidPro courier's Telegram handler: an ``Update`` becomes an
``Inbound`` (:func:`to_inbound`), the core answers, and each ``Outbound`` becomes a Bot API call
(:func:`send`, with options as an inline keyboard from :func:`to_markup`). Telegram's errors
become the channel-neutral vocabulary of :mod:`common.delivery`.

One ``TypeHandler(Update, …)`` receives every update; :class:`PerChatUpdateProcessor` runs
updates of different chats concurrently and those of one chat in arrival order.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import InlineKeyboardButtonLimit, MessageLimit
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
)
from telegram.warnings import PTBDeprecationWarning

from bot.channels.redact import guard_secret
from bot.channels.signals import stop_on_signals
from bot.channels.split import split_text as split_lines
from bot.channels.split import utf16_units
from common.catalogue import t
from common.config import Config
from common.delivery import (
    DeliveryError,
    Misconfigured,
    RecipientBlocked,
    Throttled,
    Transient,
)
from common.messages import Inbound, Outbound

if TYPE_CHECKING:
    from handlers.core import Core

log = logging.getLogger(__name__)

CHANNEL = "telegram"
TEXT_LIMIT = MessageLimit.MAX_TEXT_LENGTH  # 4096, counted in UTF-16 code units
CAPTION_LIMIT = MessageLimit.CAPTION_LENGTH  # 1024
CALLBACK_DATA_LIMIT = InlineKeyboardButtonLimit.MAX_CALLBACK_DATA  # 64 bytes
SHORT_LABEL = 18  # labels up to this many characters sit two to a row
ALLOWED_UPDATES = ("message", "callback_query")
MAX_THROTTLE_WAIT = 60.0  # seconds a reply waits for a 429 before it is given up
_UNBOUNDED = 1_000_000


# ---- Update -> Inbound ----------------------------------------------------------------------


def to_inbound(update: Update) -> Inbound | None:
    """The neutral message in ``update``, or None for updates the bot ignores.

    Only new messages and button presses of people count; edits, channel posts, messages of
    other bots and everything else are ignored. ``message_id`` is the update id, so the core
    recognises an update that Telegram delivers twice.
    """
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    chat = update.effective_chat
    common = {
        "channel": CHANNEL,
        "sender_id": str(user.id),
        "chat_id": str(chat.id if chat is not None else user.id),
        "message_id": str(update.update_id),
        "display_name": user.full_name,
    }
    query = update.callback_query
    if query is not None:
        if query.data is None:  # a game button: nothing we offered
            return None
        return Inbound(**common, option=query.data, kind="option")
    message = update.message
    if message is None:
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
    message = exc.message
    if isinstance(exc, Forbidden):
        return RecipientBlocked(message, channel=CHANNEL)
    if isinstance(exc, RetryAfter):
        return Throttled(_retry_after(exc), message, channel=CHANNEL)
    if isinstance(exc, BadRequest | InvalidToken | ChatMigrated | EndPointNotFound | Conflict):
        return Misconfigured(message, channel=CHANNEL)
    if isinstance(exc, TimedOut | NetworkError):
        return Transient(message, channel=CHANNEL)
    return Transient(message, channel=CHANNEL)


async def _call(request: Callable[[], Awaitable[Any]], wait_throttled: float) -> Any:
    """Make one API call; wait once for a 429 of at most ``wait_throttled`` seconds."""
    for attempt in range(2):
        try:
            return await request()
        except RetryAfter as exc:
            error = delivery_error(exc)
            if attempt or error.retry_after > wait_throttled:
                raise error from exc
            await asyncio.sleep(error.retry_after)
        except TelegramError as exc:
            raise delivery_error(exc) from exc


def _chat(chat_id: str | int) -> str | int:
    try:
        return int(chat_id)
    except (TypeError, ValueError):
        return chat_id  # "@channelname"


async def send(bot, chat_id: str | int, outbound: Outbound, *, wait_throttled: float = 0) -> None:
    """Send ``outbound`` to ``chat_id``: a photo, a document or text, with its keyboard.

    Texts longer than a message are split at line ends; the keyboard goes with the last piece.
    Raises a :class:`DeliveryError` subclass when Telegram refuses; a call throttled for at most
    ``wait_throttled`` seconds is first tried once more (the dispatcher passes 0 and schedules
    the retry itself).
    """
    chat = _chat(chat_id)
    markup = to_markup(outbound)
    text = outbound.text
    attachment = outbound.image is not None or outbound.document is not None
    caption = text if attachment and _units(text) <= CAPTION_LIMIT else ""
    pieces = split_text(text) if text.strip() and not caption else []
    if outbound.image is not None:
        await _call(lambda: bot.send_photo(
            chat, photo=outbound.image, caption=caption or None, filename="chart.png",
            reply_markup=None if pieces else markup,
        ), wait_throttled)
    if outbound.document is not None:
        await _call(lambda: bot.send_document(
            chat, document=outbound.document, caption=caption or None,
            filename=outbound.filename or "document",
            reply_markup=None if pieces or outbound.image is not None else markup,
        ), wait_throttled)
    for n, piece in enumerate(pieces):
        keyboard = markup if n == len(pieces) - 1 else None
        await _call(lambda piece=piece, keyboard=keyboard: bot.send_message(
            chat, piece, reply_markup=keyboard,
        ), wait_throttled)


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


async def deliver_replies(bot, chat_id: str, replies: Sequence[Outbound]) -> None:
    """Send the core's replies in order; a chat that fails gets none of its later replies.

    Only a short 429 is waited for. Other errors are not retried here: after a time-out the
    message may well have arrived, and a person who got no answer simply writes again.
    """
    failed: set[str] = set()
    for reply in replies:
        target = reply.chat_id or chat_id
        if target in failed:
            continue
        try:
            await send(bot, target, reply, wait_throttled=MAX_THROTTLE_WAIT)
        except DeliveryError as exc:
            failed.add(target)
            log.warning("reply to Telegram chat %s not delivered: %s: %s",
                        target, type(exc).__name__, exc)


# ---- the handler ----------------------------------------------------------------------------


async def _settle_button(query: CallbackQuery) -> None:
    """Stop the button's spinner and take the keyboard off the message that carried it."""
    tasks = [query.answer()]
    if isinstance(query.message, Message) and query.message.reply_markup is not None:
        tasks.append(query.edit_message_reply_markup(reply_markup=None))
    for result in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(result, TelegramError):  # e.g. "query is too old", "not modified"
            log.info("callback query %s: %s", query.id, result.message)
        elif isinstance(result, BaseException):
            raise result


def make_handler(core: Core) -> TypeHandler:
    """The one handler: every update goes through the core."""

    async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Turns the update into an Inbound, lets the core answer, and sends the replies."""
        inbound = to_inbound(update)
        if inbound is None:
            log.debug("ignored update %s", update.update_id)
            return
        if update.callback_query is not None:
            await _settle_button(update.callback_query)
        replies = await core.handle(inbound)
        await deliver_replies(context.bot, inbound.chat_id, replies)

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


def build_application(config: Config, core: Core) -> Application:
    """The python-telegram-bot Application, wired to ``core``; not started."""
    tg = config.telegram
    if not tg.token:
        raise Misconfigured("no Telegram token: set GIAMNGHEO_TELEGRAM_TOKEN", channel=CHANNEL)
    _guard_token(tg.token)
    application = (
        ApplicationBuilder()
        .token(tg.token)
        .base_url(tg.base_url)
        .base_file_url(tg.base_file_url)
        .rate_limiter(AIORateLimiter(
            overall_max_rate=tg.overall_max_rate, group_max_rate=tg.group_max_rate,
        ))
        .concurrent_updates(PerChatUpdateProcessor(tg.concurrent_updates))
        .job_queue(None)  # reminders run in our own scheduler
        .post_init(_post_init)
        .build()
    )
    application.add_handler(make_handler(core))
    application.add_error_handler(on_error)
    return application


async def run_polling(
    config: Config,
    core: Core,
    stop: asyncio.Event | None = None,
    on_started: Callable[[Any], Awaitable[Callable[[], Awaitable[None]]]] | None = None,
) -> None:
    """Poll Telegram for updates until ``stop`` is set or the process gets SIGINT/SIGTERM.

    ``on_started(bot)``, once the bot is up, starts what else runs with it (the reminders'
    delivery) and returns the coroutine function that stops it, called before the bot stops.
    """
    if stop is None:
        stop = asyncio.Event()
    application = build_application(config, core)
    with stop_on_signals(stop):
        async with application:
            if application.post_init is not None:
                await application.post_init(application)
            await application.start()
            try:
                await application.updater.start_polling(
                    poll_interval=0,
                    timeout=config.telegram.poll_timeout,
                    drop_pending_updates=False,
                    allowed_updates=list(ALLOWED_UPDATES),
                )
                log.info("Telegram: polling as @%s", application.bot.username)
                stop_background = await on_started(application.bot) if on_started else None
                try:
                    await stop.wait()
                    log.info("Telegram: stopping")
                finally:
                    if stop_background is not None:
                        await stop_background()
            finally:
                if application.updater.running:
                    await application.updater.stop()
                if application.running:
                    await application.stop()
