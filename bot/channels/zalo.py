"""The Zalo adapter: the only module that speaks the Zalo Bot API (Zalo Bot Platform).

Like the Telegram adapter it only translates, as RapidPro courier's handlers do: a Zalo event
becomes an ``Inbound`` (:func:`to_inbound`), the core answers, and each ``Outbound`` becomes
Bot API calls (:func:`requests_for`), Zalo's refusals the channel-neutral delivery errors
(:func:`delivery_error`).

The Bot API is ``POST <base_url>/bot<TOKEN>/<method>`` with a JSON body, answered
``{"ok": true, "result": …}`` or ``{"ok": false, "error_code": …, "description": …}`` (also
with HTTP 200). Zalo has no buttons: options become a numbered list (or typed shortcuts),
answered by number or label, which the core already understands. ``sendPhoto`` takes a URL,
so the bot serves its charts itself from unguessable, short-lived links
(:mod:`storage.media`); spreadsheets go as such a link.

Messages arrive by webhook (production) or by ``getUpdates`` long polling (development). Both
go through :meth:`ZaloChannel.accept`: the event is checked, stored in the inbox
(:mod:`storage.inbox`, de-duplicated on event name and message id) and only then
acknowledged; processing follows, one chat's messages in order, different chats concurrently.
The transaction that processes a message also removes it from the inbox, so an event Zalo
has handed over is processed once, even across a crash.

Each behaviour below rests on Zalo's documentation (bot.zapps.me/docs, mirrored in public
repositories: ``lamdt1/ckvn-bot`` ``docs/zalo-bot-doc.md``,
``XuanNguyenNB/QuanLyThuChi_Bot_Telegram_Zalom`` ``docs/ZALO_BOT_API.md``) or, where it is
silent, on what public integrations do; the source is named next to each decision and in the
README's table «What Zalo does not document».
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import json
import logging
import re
import secrets
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from bot.channels.plain import message_text
from bot.channels.redact import guard_secret, redact
from bot.channels.split import split_text, utf16_units
from common.catalogue import t
from common.config import Config, ConfigError, ZaloConfig
from common.delivery import (
    ChatNotFound,
    DeliveryError,
    Misconfigured,
    OutsideWindow,
    RecipientBlocked,
    Throttled,
    Transient,
)
from common.messages import Inbound, Outbound
from storage import inbox, media, outbox
from storage.db import Database
from storage.outbox import Planned
from storage.progress import role_holders

if TYPE_CHECKING:
    from handlers.core import Core

log = logging.getLogger(__name__)

CHANNEL = "zalo"
# sendMessage's text and sendPhoto's caption: "1 to 2,000 characters" (docs: sendMessage,
# sendPhoto). How Zalo counts is not said: measured as a JavaScript service counts, in UTF-16
# code units (an emoji counts two), the cautious reading (bot.channels.split).
TEXT_LIMIT = 2000
CAPTION_LIMIT = 2000
SECRET_HEADER = "X-Bot-Api-Secret-Token"
MAX_BODY = 1 << 20  # a webhook body larger than 1 MiB is refused (events are a few hundred bytes)
MAX_DEPTH = 32  # nesting of a webhook body's JSON (an event has 4 levels); deeper is refused
MAX_THROTTLE_WAIT = 60.0  # seconds a reply waits for a "too many requests" before it is given up
REPLY_BACKOFF = 0.5  # seconds before a refused reply's second try; doubles for each further one
MEDIA_PATH = "/media"
DOWNLOAD = "tai"  # the query parameter of a personal file's download link (its page's button)
PURGE_EVERY = 60.0  # seconds between removals of expired media
START_TRIES = 3  # getMe at start-up: tries when the API cannot be reached
# Event name -> Inbound.kind: the five events of the webhook documentation (docs: Webhook).
# A voice message is read as "unsupported": the bot reads text only and says so. Other events
# (Zalo may add some) are acknowledged and ignored.
EVENTS = {
    "message.text.received": "text",
    "message.image.received": "image",
    "message.sticker.received": "sticker",
    "message.voice.received": "unsupported",
    "message.unsupported.received": "unsupported",
}
# The documented chat types are PRIVATE and GROUP (docs: Webhook; a bot added to a group hears
# the messages that mention it or reply to it). The bot answers private chats only: its
# answers show an area's figures, which a group's other members must not see.
PRIVATE = "PRIVATE"
_OK = b'{"ok": true}'
_RETRY_AFTER = re.compile(r"retry after (\d+(?:\.\d+)?)", re.IGNORECASE)
# A refusal that names the recipient's chat id («chat_id is invalid», "chat not found"), see
# delivery_error.
_UNKNOWN_CHAT = re.compile(r"chat[_ ]?id\b.*\b(invalid|not found|không hợp lệ)|chat not found",
                           re.IGNORECASE)


# ---- events -> Inbound ----------------------------------------------------------------------


class BadEvent(ValueError):
    """A webhook body or update that is not a Zalo event (the webhook answers 400)."""


def parse_body(text: str) -> object:
    """A webhook body's JSON; :class:`BadEvent` when it is not JSON or nested deeper than
    ``MAX_DEPTH`` (Python's parser gives up with a ``RecursionError`` at about 1,000 levels:
    that is the sender's fault, answered 400, not a fault of ours that Zalo would retry)."""
    try:
        body = json.loads(text)
    except RecursionError:
        raise BadEvent(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    if _depth(body) > MAX_DEPTH:
        raise BadEvent(f"JSON nested deeper than {MAX_DEPTH} levels")
    return body


def _depth(value: object) -> int:
    """How deep ``value``'s lists and objects go, without recursion (a stack of levels)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(
            item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


def unwrap(body: object) -> dict:
    """The event in a webhook body or ``getUpdates`` result, with its ``event_name``.

    The webhook documentation shows the event wrapped, ``{"ok": true, "result": {event}}``;
    integrations report it arriving flat, ``{event}`` (``openclaw/openclaw``
    ``extensions/zalo/src/monitor.ts``, "Zalo sends updates directly as { event_name,
    message, ... }"): both are accepted. The ``getUpdates`` documentation's sample answer has
    no ``event_name`` at all (``{"message": {…, "from": {"id", "first_name"}}}``): such an
    event is named from what its message holds (:func:`event_name_of`).
    """
    if isinstance(body, dict) and isinstance(body.get("result"), dict) and (
            "event_name" not in body):
        body = body["result"]
    if not isinstance(body, dict):
        raise BadEvent("not a Zalo event: not an object")
    message = body.get("message")
    if not isinstance(message, dict):
        raise BadEvent("not a Zalo event: no message")
    name = body.get("event_name")
    if name is None:
        if not isinstance(message.get("from"), dict) or not isinstance(message.get("chat"),
                                                                       dict):
            raise BadEvent("not a Zalo event: no event_name, and no sender or chat")
        return {**body, "event_name": event_name_of(message)}
    if not isinstance(name, str):
        raise BadEvent("not a Zalo event: no event_name")
    return body


def event_name_of(message: dict) -> str:
    """The event a message without ``event_name`` is, from the fields the webhook documentation
    lists for each kind: ``text``; ``photo`` (and ``caption``); ``sticker`` (and ``url``);
    ``voice_url``; anything else is unsupported."""
    if isinstance(message.get("text"), str):
        return "message.text.received"
    if message.get("photo") or message.get("photo_url"):
        return "message.image.received"
    if message.get("sticker"):
        return "message.sticker.received"
    if message.get("voice_url"):
        return "message.voice.received"
    return "message.unsupported.received"


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _id(value: object) -> str:
    """Zalo's ids are strings; a number is accepted as its digits."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int | str):
        return str(value).strip()
    return ""


def message_key(event: dict) -> str:
    """The id the bot de-duplicates on: the event name and Zalo's message id."""
    message = event["message"]
    message_id = _id(message.get("message_id"))
    if not message_id:  # never seen; then the event itself identifies the message
        canonical = json.dumps(event, sort_keys=True, ensure_ascii=False)
        message_id = "sha:" + hashlib.sha256(canonical.encode()).hexdigest()[:32]
    return f"{event['event_name']}:{message_id}"


def _received_at(value: object) -> datetime | None:
    """Zalo's ``date`` is epoch milliseconds (a number or a string of digits)."""
    try:
        millis = int(value)
    except (TypeError, ValueError):
        return None
    if millis <= 0:
        return None
    try:
        return datetime.fromtimestamp(millis / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _is_bot(value: object) -> bool:
    """``from.is_bot`` (docs: Webhook) is a boolean; a string or a number is read as one."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return value is True or (isinstance(value, int) and value == 1)


def ignored_because(event: dict, bot_id: str = "") -> str | None:
    """Why the bot does not answer ``event``, or None when it does."""
    if event.get("event_name") not in EVENTS:
        return "an event the bot does not read"
    message = event.get("message")
    sender = message.get("from") if isinstance(message, dict) else None
    sender = sender if isinstance(sender, dict) else {}
    sender_id = _id(sender.get("id"))
    if not sender_id:
        return "no sender"
    # The bot's own messages, and those of other bots, are never answered: an answer to an
    # answer is a loop. Integrations drop events whose sender is a bot
    # (trongnguyenbinh/zalo-bot-mcp src/zalo_bot_mcp/gate.py: ``if msg.is_bot: return DROP``);
    # the bot's own id (getMe) is checked as well, whatever ``is_bot`` says, should Zalo pass
    # a message of the bot back to it.
    if _is_bot(sender.get("is_bot")):
        return "a message of a bot"
    if bot_id and sender_id == bot_id:
        return "the bot's own message"
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    chat_type = chat.get("chat_type")
    if isinstance(chat_type, str) and chat_type.upper() != PRIVATE:
        return f"a {chat_type.lower()} chat (the bot answers private chats only)"
    return None


def to_inbound(event: dict, *, bot_id: str = "") -> Inbound | None:
    """The neutral message of a Zalo event, or None for events the bot ignores
    (:func:`ignored_because`: unknown event types, messages of bots or of the bot itself
    (``bot_id``, from getMe), group chats, messages without a sender)."""
    if ignored_because(event, bot_id) is not None:
        return None
    kind = EVENTS[event["event_name"]]
    message = event["message"]
    sender = message["from"]
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    sender_id = _id(sender.get("id"))
    text = _text(message.get("text")) if kind == "text" else _text(message.get("caption"))
    return Inbound(
        channel=CHANNEL,
        sender_id=sender_id,
        chat_id=_id(chat.get("id")) or sender_id,
        message_id=message_key(event),
        text=text,
        # display_name in the webhook documentation, first_name in getUpdates' sample
        display_name=(_text(sender.get("display_name")) or _text(sender.get("first_name"))
                      or _text(sender.get("name"))),
        received_at=_received_at(message.get("date")),
        kind=kind,
    )


# ---- Outbound -> Bot API requests -----------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One Bot API call."""

    method: str
    body: dict[str, Any]


def requests_for(chat_id: str, outbound: Outbound, *, photo_url: str | None = None,
                 document_url: str | None = None, ttl_minutes: int = 60) -> list[Request]:
    """The calls that deliver ``outbound``: a photo by its URL (its caption the text when it
    fits), a document as a link (valid ``ttl_minutes``; a personal one says it downloads once),
    then the text in pieces of at most 2,000 characters, cut at paragraph or line ends where
    possible, with the options at the end."""
    calls: list[Request] = []
    text = message_text(outbound)
    if outbound.image is not None:
        if photo_url is None:
            text = "\n\n".join(p for p in (t("zalo.no_media"), text) if p)
        elif text and utf16_units(text) <= CAPTION_LIMIT:
            calls.append(Request("sendPhoto", {"chat_id": chat_id, "photo": photo_url,
                                               "caption": text}))
            text = ""
        else:
            calls.append(Request("sendPhoto", {"chat_id": chat_id, "photo": photo_url}))
    if outbound.document is not None:
        name = outbound.filename or "tep"
        key = "zalo.document_link_personal" if outbound.personal else "zalo.document_link"
        line = (t(key, name=name, url=document_url, minutes=ttl_minutes)
                if document_url else t("zalo.no_media"))
        text = "\n\n".join(p for p in (text, line) if p)
    for piece in split_text(text, TEXT_LIMIT) if text.strip() else []:
        calls.append(Request("sendMessage", {"chat_id": chat_id, "text": piece}))
    return calls


# ---- errors ---------------------------------------------------------------------------------


class ZaloApiError(Exception):
    """Zalo refused a call: ``{"ok": false, "error_code", "description"}`` or an HTTP error.
    ``retry_after``: the seconds an HTTP ``Retry-After`` header asked for, if any."""

    def __init__(self, method: str, http_status: int, error_code: int | None,
                 description: str, retry_after: float | None = None):
        super().__init__(f"{method}: {error_code or http_status} {description}".strip())
        self.method = method
        self.http_status = http_status
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    @property
    def codes(self) -> set[int]:
        """The HTTP status and Zalo's ``error_code``: Zalo answers an error with the HTTP
        status of its code (measured: trongnguyenbinh/zalo-bot-mcp
        src/zalo_bot_mcp/zalo_api.py, "HTTP 408 {"ok":false,...}"), the documentation shows
        only the code; either is read."""
        return {self.http_status} | ({self.error_code} if self.error_code is not None else set())

    @property
    def quota_exceeded(self) -> bool:
        """429: «Quota exceeded - Vượt quá giới hạn sử dụng API cho phép» (docs: error
        codes)."""
        return 429 in self.codes

    @property
    def unauthorized(self) -> bool:
        """401: «Unauthorized - Token đã hết hạn hoặc không hợp lệ» (docs: error codes)."""
        return 401 in self.codes

    def hinted_wait(self) -> float | None:
        """The wait a refusal names itself: a ``Retry-After`` header, or "retry after N" in
        the description (Zalo documents neither; Telegram-style APIs say so)."""
        if self.retry_after is not None:
            return self.retry_after
        found = _RETRY_AFTER.search(self.description)
        return float(found.group(1)) if found else None


def delivery_error(exc: ZaloApiError, config: ZaloConfig,
                   throttle_wait: float | None = None) -> DeliveryError:
    """The channel-neutral error for a refused call.

    Zalo's error-code page (docs: error codes) lists six codes:

    ====  ============================================================  ===================
    400   Bad request - sai đường dẫn hoặc API Name không hợp lệ         misconfigured¹
    401   Unauthorized - Token đã hết hạn hoặc không hợp lệ              misconfigured (token)
    403   Internal server error                                          transient
    404   Not found - Yêu cầu truy cập không lệ                          misconfigured
    408   Request timeout - Quá thời gian xử lý cho phép                 transient
    429   Quota exceeded - Vượt quá giới hạn sử dụng API cho phép        throttled
    ====  ============================================================  ===================

    A 403 is therefore *not* Telegram's "forbidden, the person blocked the bot": it is
    retried a bounded number of times. A 429 is a plan's quota (the free plan allows 3,000
    messages a month: trongnguyenbinh/zalo-bot-mcp README.md, «Free-plan quotas»), not a
    burst limit; it waits ``throttle_wait`` (the channel's growing pause, see
    :class:`QuotaPause`) unless the refusal names its own wait. Zalo documents nothing for
    "blocked" or "outside the interaction window": those are recognised by words of the
    description (``zalo.blocked_patterns``, ``zalo.window_patterns``). 5xx are transient;
    other 4xx are our request's fault; anything else is retried a bounded number of times.
    ¹ Except a refusal of the recipient's chat id («chat_id is invalid»): ``ChatNotFound``,
    as Telegram's «chat not found» (see the comment below).
    """
    codes = exc.codes
    text = str(exc)
    description = exc.description.lower()
    if exc.unauthorized:
        return Misconfigured(f"{text} (check GIAMNGHEO_ZALO_TOKEN)", channel=CHANNEL)
    if exc.quota_exceeded:
        wait = exc.hinted_wait()
        if wait is None:
            wait = throttle_wait if throttle_wait is not None else config.throttle_retry_seconds
        return Throttled(wait, text, channel=CHANNEL)
    if any(word in description for word in config.blocked_patterns):
        return RecipientBlocked(text, channel=CHANNEL)
    if any(word in description for word in config.window_patterns):
        return OutsideWindow(text, channel=CHANNEL)
    if _UNKNOWN_CHAT.search(exc.description):
        # A 400 is documented as "sai đường dẫn hoặc API Name không hợp lệ", i.e. a request
        # that can never work — but the same page says to read the description for details,
        # and «chat_id is invalid» is about one recipient, not the request: the chat id the
        # bot got from that person's event (docs: Webhook, "Sử dụng chat.id để gửi tin nhắn
        # phản hồi"; lamdt1/ckvn-bot docs/zalo-bot-doc.md, «Bảng mã lỗi») is no longer, or
        # never was, one this bot can write to (a deleted account, a token of another bot).
        # That is Telegram's «Bad Request: chat not found», which is ChatNotFound there too
        # (bot/channels/telegram.py): the person's other messenger is tried, the commune
        # officer told, and writing to the bot again undoes it. As Misconfigured the reminder
        # would simply fail and nobody would hear of it.
        return ChatNotFound(text, channel=CHANNEL)
    if codes & {403, 408} or any(c >= 500 for c in codes):
        return Transient(text, channel=CHANNEL)
    if any(400 <= c < 500 for c in codes):
        return Misconfigured(text, channel=CHANNEL)
    return Transient(text, channel=CHANNEL)


class QuotaPause:
    """The Zalo channel's pause after «Quota exceeded» (429).

    The quota's period is not documented (a plan's messages a month, perhaps a day's or a
    minute's): the first refusal pauses ``first`` seconds, each further refusal in a row
    doubles the pause, up to ``longest``, so a short limit clears quickly and a long one costs
    a try an hour rather than one every 30 seconds for days. A call that goes through ends the
    run.

    Calls overlap (the outbox sends several at once, replies go meanwhile), so each outcome
    is read with the time its call started (``started``, from :attr:`monotonic`): a call that
    was already under way when the pause began tells nothing new. Its refusal is the same
    refusal (the pause does not double again), its success was decided before the refusal
    (the pause holds).
    """

    def __init__(self, first: float, longest: float,
                 monotonic: Callable[[], float] = time.monotonic):
        self.first = first
        self.longest = longest
        self.monotonic = monotonic
        self.until = 0.0
        self.began = float("-inf")  # when the latest pause began
        self.streak = 0  # refusals in a row

    def remaining(self) -> float:
        """Seconds the channel still waits (0 when it may call Zalo)."""
        return max(0.0, self.until - self.monotonic())

    def refused(self, hinted: float | None = None, started: float | None = None) -> float:
        """Zalo refused for quota a call that started at ``started``: pause, and return for
        how long."""
        now = self.monotonic()
        if started is not None and started < self.began and self.until > now:
            if hinted is not None:  # the refusal names a longer wait: it is kept
                self.until = max(self.until, now + hinted)
            return self.until - now
        wait = hinted if hinted is not None else min(self.longest,
                                                     self.first * 2 ** self.streak)
        self.streak += 1
        self.began = now
        self.until = max(self.until, now + wait)
        return wait

    def passed(self, started: float | None = None) -> bool:
        """A call that started at ``started`` went through; True when that ends a run of
        refusals."""
        if started is not None and started < self.began:
            return False  # under way before the latest refusal: the pause holds
        ended = self.streak > 0
        self.streak = 0
        self.until = 0.0
        return ended


# ---- the HTTP client ------------------------------------------------------------------------


class ZaloClient:
    """A thin async client of the Bot API over aiohttp (the HTTP library the bot's web server
    already uses; measured with ``python -m bench.zalo``, it costs a fraction of httpx's time
    per call). The token is only ever in the URL it builds, and neither the URL nor the token
    reaches a log or an exception message."""

    def __init__(self, config: ZaloConfig):
        if not config.token:
            raise Misconfigured("no Zalo token: set GIAMNGHEO_ZALO_TOKEN", channel=CHANNEL)
        self.config = config
        self._prefix = f"{config.base_url}/bot{config.token}/"
        self._session: aiohttp.ClientSession | None = None
        guard_secret(config.token, ("aiohttp.client", __name__))

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:  # made in the running loop
            self._session = aiohttp.ClientSession(
                timeout=self._timeout(),
                connector=aiohttp.TCPConnector(
                    limit=max(16, self.config.concurrent_updates), ttl_dns_cache=300),
                raise_for_status=False, trust_env=False)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _timeout(self, read_timeout: float | None = None) -> aiohttp.ClientTimeout:
        """Every call ends within ``request_timeout`` seconds, from waiting for a connection
        to the last byte of the answer; a long poll (``read_timeout``) may wait that long for
        its answer instead. (aiohttp reads ``timeout=None`` as no limit at all.)"""
        limit = self.config.request_timeout
        if read_timeout:
            return aiohttp.ClientTimeout(total=None, connect=limit, sock_connect=limit,
                                         sock_read=read_timeout)
        return aiohttp.ClientTimeout(total=limit, sock_connect=limit)

    async def call(self, method: str, body: dict[str, Any] | None = None, *,
                   read_timeout: float | None = None) -> Any:
        """Call ``method``; its ``result``, or :class:`ZaloApiError`, or :class:`Transient`
        for a network failure, an answer that is not the Bot API's JSON, or no answer within
        ``request_timeout`` (``read_timeout`` for a long poll). After a time-out the message
        may still have been delivered: a reply is not sent again, the outbox tries a reminder
        again (a reminder twice is better than none)."""
        timeout = self._timeout(read_timeout)
        try:
            async with self._http().post(self._prefix + method, json=body or {},
                                         timeout=timeout) as response:
                status, reason = response.status, response.reason or ""
                raw = await response.read()
                retry_after = _seconds(response.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as exc:
            reason = redact(f"{type(exc).__name__}: {exc}", self.config.token)
            raise Transient(f"{method}: {reason}", channel=CHANNEL) from None
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if not isinstance(data, dict) or "ok" not in data:
            if status >= 400:
                raise ZaloApiError(method, status, None, reason, retry_after)
            raise Transient(f"{method}: an answer that is not the Bot API's (HTTP {status})",
                            channel=CHANNEL)
        if data.get("ok") is True and status < 400:
            return data.get("result")
        code = data.get("error_code")
        raise ZaloApiError(method, status,
                           code if isinstance(code, int) and not isinstance(code, bool) else None,
                           redact(_text(data.get("description")), self.config.token),
                           retry_after)


# ---- the channel ----------------------------------------------------------------------------


class ZaloSender:
    """The dispatcher's way to send on Zalo (``scheduler.dispatcher.Sender``)."""

    channel = CHANNEL

    def __init__(self, channel: ZaloChannel):
        self._channel = channel
        self.rate = channel.config.zalo.max_rate
        self.per_chat_interval = channel.config.zalo.per_chat_interval

    async def send(self, chat_id: str, message: Outbound) -> None:
        """Deliver ``message`` or raise a channel-neutral delivery error."""
        await self._channel.send(chat_id, message, wait_throttled=0)


class ZaloChannel:
    """Zalo for the bot: the webhook and media web server, polling, the inbox, delivery.

    ``start()`` serves ``<webhook_path>`` (webhook mode) and ``/media/<token>/<name>``,
    registers the webhook or starts polling, and processes what the inbox still holds from
    before a restart; ``stop()`` stops accepting, lets the messages being processed finish,
    and closes everything.
    """

    def __init__(self, config: Config, core: Core, db: Database,
                 client: ZaloClient | None = None):
        self.config = config
        self.core = core
        self.db = db
        self.zalo = config.zalo
        self.client = client or ZaloClient(config.zalo)
        self.secret = self.zalo.webhook_secret or secrets.token_urlsafe(32)
        guard_secret(self.secret, ("aiohttp.access", __name__))
        self._places = asyncio.Semaphore(self.zalo.concurrent_updates)
        self._chats: dict[str, deque[Inbound]] = {}
        self._workers: dict[str, asyncio.Task] = {}
        self._pending: list[tuple[list[tuple[str, str, str]], asyncio.Future]] = []
        self._flusher: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        self.port: int | None = None
        self.processed = 0
        self.bot_id = ""  # the bot's own Zalo id, from getMe at start-up
        self.quota = QuotaPause(self.zalo.throttle_retry_seconds,
                                self.zalo.quota_pause_max_seconds)
        self._quota_told = False  # an error was logged for the current run of refusals
        self.quota_notice: asyncio.Task | None = None  # telling the admins (the outbox)

    @property
    def sender(self) -> ZaloSender:
        return ZaloSender(self)

    @property
    def webhook_url(self) -> str:
        return self.zalo.public_base_url + self.zalo.webhook_path

    # ---- life cycle ---------------------------------------------------------------------

    def web_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        if self.zalo.mode == "webhook":
            app.router.add_post(self.zalo.webhook_path, self._on_webhook)
        app.router.add_get(MEDIA_PATH + "/{token}/{name}", self._on_media)
        return app

    async def start(self) -> None:
        """Check the token (getMe), serve, register the webhook or start polling.

        What can only be fixed by a person (a wrong or reset token, an address Zalo refuses,
        a port in use, an API that cannot be reached) raises :class:`ConfigError` with one
        sentence saying what to check, so the bot ends with that line, not a traceback.
        """
        me = await self._get_me()
        self.bot_id = _id(me.get("id"))
        name = _text(me.get("account_name")) or _text(me.get("display_name")) or self.bot_id
        if not self.bot_id:
            log.warning("Zalo: getMe gave no bot id; the bot's own messages are recognised "
                        "by is_bot only")
        self._runner = web.AppRunner(self.web_app(), access_log=None,
                                     handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.zalo.listen_host, self.zalo.listen_port)
        try:
            await site.start()
        except OSError as exc:
            raise ConfigError(f"Zalo: cannot listen on {self.zalo.listen_host}:"
                              f"{self.zalo.listen_port} ({exc.strerror or exc}): check "
                              "zalo.listen_host and zalo.listen_port") from None
        sockets = getattr(site._server, "sockets", None) or []  # the port when it was 0
        self.port = sockets[0].getsockname()[1] if sockets else self.zalo.listen_port
        if not self.zalo.public_base_url:
            log.warning("Zalo: zalo.public_base_url is not set, so charts and spreadsheets "
                        "cannot be sent on Zalo")
        await self.recover()
        if self.zalo.mode == "webhook":
            if self.zalo.register_webhook:
                try:
                    await self.client.call("setWebhook", {"url": self.webhook_url,
                                                          "secret_token": self.secret})
                except ZaloApiError as exc:
                    raise ConfigError(
                        f"Zalo refused the webhook {self.webhook_url} ({exc}): check "
                        "zalo.public_base_url (a public HTTPS address) and "
                        "zalo.webhook_path") from None
            log.info("Zalo: bot %s receives messages at %s (listening on %s:%s)", name,
                     self.webhook_url, self.zalo.listen_host, self.port)
        else:
            try:
                await self.client.call("deleteWebhook")
            except (ZaloApiError, DeliveryError) as exc:
                log.info("Zalo: deleteWebhook: %s", exc)
            self._spawn(self._poll_forever())
            log.info("Zalo: polling as %s", name)
        self._spawn(self._purge_media_forever())

    async def _get_me(self) -> dict:
        """getMe ("use this method to check the Bot Token", docs: getMe): the bot's account,
        or :class:`ConfigError` for a token Zalo refuses or an API that cannot be reached."""
        for attempt in range(START_TRIES):
            try:
                me = await self.client.call("getMe")
                return me if isinstance(me, dict) else {}
            except ZaloApiError as exc:
                if exc.unauthorized:
                    raise ConfigError(f"Zalo refused the bot token ({exc}): check "
                                      "GIAMNGHEO_ZALO_TOKEN (Zalo Bot Creator sends a new "
                                      "one when the token is reset)") from None
                error = delivery_error(exc, self.zalo)
                if not error.retryable:
                    raise ConfigError(f"Zalo refused getMe ({exc}): check zalo.base_url and "
                                      "GIAMNGHEO_ZALO_TOKEN") from None
                reason = str(exc)
            except Transient as exc:
                reason = exc.message
            if attempt + 1 < START_TRIES:
                log.warning("Zalo: getMe failed (%s); trying again", reason)
                await asyncio.sleep(0.5 * 2 ** attempt)
        raise ConfigError(f"Zalo: the Bot API at {self.zalo.base_url} cannot be reached "
                          f"({reason}): check zalo.base_url and the network")

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()  # no new webhook requests; running ones finish
            self._runner = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.drain()
        await self.client.close()

    async def drain(self) -> None:
        """Wait until every accepted message is processed."""
        while self._flusher is not None or self._workers:
            await asyncio.gather(*([self._flusher] if self._flusher else []),
                                 *self._workers.values(), return_exceptions=True)

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def recover(self) -> int:
        """Process the events stored before a stop or a crash but not processed then."""
        async with self.db.read() as conn:
            rows = await inbox.waiting(conn, CHANNEL)
        unknown = []
        for message_id, _, payload in rows:
            try:
                inbound = to_inbound(unwrap(json.loads(payload)), bot_id=self.bot_id)
            except ValueError:
                inbound = None
            if inbound is None:  # stored by a version that knew this event; not this one
                unknown.append(message_id)
            else:
                self._schedule(inbound)
        if unknown:
            async with self.db.write() as conn:
                for message_id in unknown:
                    await inbox.settle(conn, CHANNEL, message_id)
        if rows:
            log.info("Zalo: processing %d message(s) received before the restart", len(rows))
        return len(rows)

    # ---- receiving ----------------------------------------------------------------------

    async def accept(self, bodies: Sequence[object], raw: Sequence[str] | None = None) -> int:
        """Check, store and schedule events; return how many were new. Raises
        :class:`BadEvent` (nothing stored) when one of them is not a Zalo event. ``raw``:
        the bodies as received, stored as they are (a stored body is unwrapped again)."""
        events = [unwrap(body) for body in bodies]
        accepted: list[Inbound] = []
        rows: list[tuple[str, str, str]] = []
        for n, event in enumerate(events):
            inbound = to_inbound(event, bot_id=self.bot_id)
            if inbound is None:
                why = ignored_because(event, self.bot_id)
                log.log(logging.DEBUG if why == "the bot's own message" else logging.INFO,
                        "Zalo: ignored event %s: %s", event.get("event_name"), why)
                continue
            accepted.append(inbound)
            rows.append((inbound.message_id, inbound.chat_id,
                         raw[n] if raw is not None else json.dumps(event, ensure_ascii=False)))
        if not rows:
            return 0
        new = set(await self._store(rows))
        for inbound in accepted:
            if inbound.message_id in new:
                new.discard(inbound.message_id)  # the same event twice in one batch: once
                self._schedule(inbound)
            else:
                log.info("Zalo: ignored redelivered message %s", inbound.message_id)
        return len(rows)

    async def _store(self, rows: list[tuple[str, str, str]]) -> list[str]:
        """Store rows in the inbox, many webhook requests in one transaction (group commit):
        requests that arrive while a transaction is written join the next one."""
        future = asyncio.get_running_loop().create_future()
        self._pending.append((rows, future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        health = self.db.health.loop("zalo webhook", "storing Zalo's webhook events",
                                     logger=log)
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    # On the disk before Zalo hears 200 (a power cut must not lose it)
                    async with self.db.write(durable=True) as conn:
                        new = await inbox.store(
                            conn, CHANNEL, [row for rows, _ in batch for row in rows],
                            self.core.clock())
                except Exception as exc:
                    health.failed(exc)  # answered 503: Zalo sends it again
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                health.ok()
                fresh = set(new)
                for rows, future in batch:
                    if not future.done():
                        future.set_result([r[0] for r in rows if r[0] in fresh])
        finally:
            self._flusher = None

    def _schedule(self, inbound: Inbound) -> None:
        """Process the message after those of its chat already waiting."""
        chat_id = inbound.chat_id
        self._chats.setdefault(chat_id, deque()).append(inbound)
        if chat_id not in self._workers:
            self._workers[chat_id] = asyncio.create_task(self._work(chat_id))

    async def _work(self, chat_id: str) -> None:
        queue = self._chats[chat_id]
        try:
            while queue:
                inbound = queue.popleft()
                async with self._places:
                    try:
                        await self._process(inbound)
                    except Exception:
                        log.exception("Zalo: message %s failed", inbound.message_id)
        finally:
            del self._chats[chat_id]
            del self._workers[chat_id]

    async def _process(self, inbound: Inbound) -> None:
        replies = await self.core.handle(
            inbound, settle=[inbox.settle_statement(CHANNEL, inbound.message_id)],
            on_busy=lambda notice: self.deliver_replies(inbound.chat_id, notice))
        self.processed += 1
        undelivered = await self.deliver_replies(inbound.chat_id, replies)
        if undelivered:  # before the chat's next message: its worker waits for this
            await self.core.undelivered(inbound, undelivered)

    async def _on_webhook(self, request: web.Request) -> web.Response:
        """Zalo's POST: 403 without the right secret, 400 for what is not an event, 200 once
        the event is stored (processing follows)."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            log.warning("Zalo: webhook request with a wrong or missing secret from %s",
                        request.remote)
            return web.json_response({"ok": False, "description": "forbidden"}, status=403)
        try:
            text = (await request.read()).decode("utf-8")
            await self.accept([parse_body(text)], [text])
        except (ValueError, UnicodeDecodeError) as exc:  # BadEvent and bad JSON
            log.warning("Zalo: webhook body refused: %s", exc)
            return web.json_response({"ok": False, "description": "bad request"}, status=400)
        except web.HTTPException:
            raise
        except Exception:
            log.exception("Zalo: could not store a webhook event")
            return web.json_response({"ok": False, "description": "try again"}, status=503)
        return web.Response(body=_OK, content_type="application/json")

    async def _poll_forever(self) -> None:
        """Development mode: ``getUpdates`` (one event per call, docs: getUpdates; an idle
        poll ends in 408 «Request timeout»). A refusal backs off, doubling up to a minute (the
        quota's pause when Zalo says «Quota exceeded»); a refused token is logged as an error
        naming GIAMNGHEO_ZALO_TOKEN, once until polling works again."""
        failures = 0
        told_token = False
        timeout = self.zalo.poll_timeout
        while not self._stopping.is_set():
            try:
                result = await self.client.call("getUpdates", {"timeout": str(timeout)},
                                                read_timeout=timeout + 10)
                failures = 0
                told_token = False
            except ZaloApiError as exc:
                if 408 in exc.codes:
                    failures = 0
                    continue
                failures += 1
                wait = min(60.0, 2.0 ** failures)
                error = delivery_error(exc, self.zalo, throttle_wait=wait)
                if isinstance(error, Throttled):
                    wait = max(wait, error.retry_after)
                if exc.unauthorized and not told_token:
                    log.error("Zalo: getUpdates refused: %s", error.message)
                    told_token = True
                else:
                    log.warning("Zalo: getUpdates refused: %s (next try in %.0f s)", exc, wait)
                await asyncio.sleep(wait)
                continue
            except Transient as exc:
                failures += 1
                log.warning("Zalo: getUpdates failed: %s", exc.message)
                await asyncio.sleep(min(60, 2 ** failures))
                continue
            updates = result if isinstance(result, list) else [result] if result else []
            for update in updates:
                try:
                    await self.accept([update])
                except BadEvent as exc:
                    log.warning("Zalo: update refused: %s", exc)

    # ---- media --------------------------------------------------------------------------

    async def _on_media(self, request: web.Request) -> web.StreamResponse:
        """``GET /media/<token>/<name>``: the file of that link (404 for an unknown or
        expired token, and for a right token with another name). A personal file (a household
        list) answers with a page that says what it holds and links to the download
        (``?tai=1``): a link preview that fetches the address takes nothing, and the file is
        gone a minute after its download (``storage.media``)."""
        token, name = request.match_info["token"], request.match_info["name"]
        now = self.core.clock()
        async with self.db.read() as conn:
            found = await media.get(conn, token, name, now)
        if found is None:
            raise web.HTTPNotFound()
        headers = {"X-Robots-Tag": "noindex", "X-Content-Type-Options": "nosniff",
                   "Referrer-Policy": "no-referrer",
                   "Cache-Control": "no-store" if found.personal else "private, max-age=300"}
        if found.personal and DOWNLOAD not in request.query:
            return web.Response(text=_media_page(found.filename), content_type="text/html",
                                charset="utf-8", headers=headers)
        if found.personal and request.method == "GET":
            async with self.db.write() as conn:
                await media.downloaded(conn, token, now)
        if not found.content_type.startswith("image/"):
            headers["Content-Disposition"] = f"attachment; filename=\"{found.filename}\""
        return web.Response(body=found.body, content_type=found.content_type, headers=headers)

    async def _publish(self, body: bytes, content_type: str, filename: str,
                       personal: bool = False) -> str | None:
        """A short-lived public link to ``body``, or None without ``zalo.public_base_url``."""
        if not self.zalo.public_base_url:
            return None
        async with self.db.write() as conn:
            token = await media.put(conn, body, content_type=content_type, filename=filename,
                                    at=self.core.clock(), personal=personal,
                                    ttl=timedelta(minutes=self._ttl_minutes(personal)))
        return f"{self.zalo.public_base_url}{MEDIA_PATH}/{token}/{filename}"

    def _ttl_minutes(self, personal: bool) -> int:
        return self.zalo.personal_media_ttl_minutes if personal else self.zalo.media_ttl_minutes

    async def _purge_media_forever(self) -> None:
        while not self._stopping.is_set():
            purging = self.db.health.loop("media cleanup", "removing expired chart and "
                                          "spreadsheet links", logger=log)
            try:
                async with self.db.write() as conn:
                    await media.purge(conn, self.core.clock())
                purging.ok()
            except Exception as exc:
                purging.failed(exc)
            await asyncio.sleep(PURGE_EVERY)

    # ---- sending ------------------------------------------------------------------------

    async def send(self, chat_id: str, outbound: Outbound, *, wait_throttled: float = 0,
                   retries: int = 0) -> None:
        """Send ``outbound`` to ``chat_id`` or raise a channel-neutral delivery error; a call
        throttled for at most ``wait_throttled`` seconds is tried once more, one refused as
        passing (403 «Internal server error», 5xx) up to ``retries`` more times. While Zalo's
        quota pause lasts nothing is sent: :class:`Throttled` says how long it still lasts."""
        self._check_quota(wait_throttled)
        photo_url = document_url = None
        if outbound.image is not None:
            photo_url = await self._publish(outbound.image, "image/png", "bieu-do.png")
        if outbound.document is not None:
            name = _safe_filename(outbound.filename or "tep")
            document_url = await self._publish(outbound.document, _content_type(name), name,
                                               personal=outbound.personal)
        for request in requests_for(chat_id, outbound, photo_url=photo_url,
                                    document_url=document_url,
                                    ttl_minutes=self._ttl_minutes(outbound.personal)):
            await self._call(request, wait_throttled, retries)

    def _check_quota(self, wait_throttled: float) -> None:
        remaining = self.quota.remaining()
        if remaining > wait_throttled:
            raise Throttled(remaining, "Zalo's quota is exceeded; the channel is paused",
                            channel=CHANNEL)

    async def _wait_quota(self, wait_throttled: float) -> None:
        """Until the channel's pause is over, when it ends within ``wait_throttled`` seconds
        (a further refusal meanwhile lengthens it); else :class:`Throttled` at once."""
        self._check_quota(wait_throttled)
        while (remaining := self.quota.remaining()) > 0:
            await asyncio.sleep(remaining)
            self._check_quota(wait_throttled)

    async def _call(self, request: Request, wait_throttled: float, retries: int = 0) -> Any:
        throttled = tried = 0
        while True:
            await self._wait_quota(wait_throttled)
            started = self.quota.monotonic()
            try:
                result = await self.client.call(request.method, request.body)
            except ZaloApiError as exc:
                if exc.quota_exceeded:
                    hint = exc.hinted_wait()
                    wait = self.quota.refused(hint, started)
                    if self.quota.streak == 1 and (hint is None or hint > self.quota.first):
                        self._on_quota_exceeded(exc, wait)
                    error = delivery_error(exc, self.zalo, throttle_wait=wait)
                else:
                    error = delivery_error(exc, self.zalo)
                if (isinstance(error, Throttled) and not throttled
                        and error.retry_after <= wait_throttled):
                    throttled += 1
                    continue
                if isinstance(error, Transient) and tried < retries:
                    # Zalo answered that it failed, so nothing was delivered: trying again
                    # cannot send twice (a lost connection is not retried here: the message
                    # may have gone through).
                    tried += 1
                    await asyncio.sleep(REPLY_BACKOFF * 2 ** (tried - 1))
                    continue
                raise error from None
            if self.quota.passed(started) and self._quota_told:
                self._quota_told = False
                log.warning("Zalo: the quota allows messages again; the channel goes on")
            return result

    def _on_quota_exceeded(self, exc: ZaloApiError, wait: float) -> None:
        """The first «Quota exceeded» of a run: an operator must act (the plan's quota)."""
        log.error("Zalo: %s: the bot's Zalo quota is used up («Quota exceeded»). Messages on "
                  "Zalo wait (next try in %.0f s, then at growing intervals of up to %.0f "
                  "min). Check the bot's plan and quota at bot.zapps.me.", exc, wait,
                  self.zalo.quota_pause_max_seconds / 60)
        self._quota_told = True
        self.quota_notice = asyncio.create_task(self._tell_admins_quota())
        self._tasks.add(self.quota_notice)
        self.quota_notice.add_done_callback(self._tasks.discard)

    async def _tell_admins_quota(self) -> None:
        """Tell the admins once a day, on another messenger than Zalo where they have one."""
        try:
            now = self.core.clock()
            local = now.astimezone(self.config.timezone)
            minutes = f"{self.zalo.quota_pause_max_seconds / 60:g}"
            async with self.db.write() as conn:
                admins = sorted({h.person_id for h in await role_holders(conn, ("admin",))})
                planned = []
                notice = Outbound(t("zalo.quota_exceeded", minutes=minutes))
                for person_id in admins:
                    others = [a for a in await outbox.reachable_identities(conn, person_id)
                              if a.channel != CHANNEL]
                    planned.append(Planned(person_id, notice,
                                           to=(others[0].channel, others[0].external_id)
                                           if others else None))
                if not planned:
                    log.warning("Zalo: no admin to tell that the Zalo quota is used up")
                    return
                await outbox.create_campaign(
                    conn, key=f"alert:zalo-quota:{local.date().isoformat()}", kind="alert",
                    messages=planned, at=now, priority=1,
                    not_before=self.config.calendar.next_sending_time(local))
        except Exception:
            log.exception("Zalo: could not tell the admins that the quota is used up")

    async def deliver_replies(self, chat_id: str, replies: Sequence[Outbound]
                              ) -> list[Outbound]:
        """Send the core's replies in order; a chat that fails gets none of its later replies.
        Returns the replies not delivered (for :meth:`Core.undelivered`: the question they
        asked is asked again at the person's next answer).

        A reply Zalo refused as passing (403 «Internal server error», 408, 5xx) is tried again
        ``transient_retries`` times at once, after 0.5 s, 1 s, …: the person is waiting, and
        the chat's next message waits behind it, so the order stays (the outbox would send it
        after replies to later messages). A lost connection or a time-out is not tried again:
        the message may have arrived, and twice would be worse than asking again."""
        failed: set[str] = set()
        undelivered: list[Outbound] = []
        for reply in coalesce(replies):
            target = reply.chat_id or chat_id
            if target in failed:
                undelivered.append(reply)
                continue
            try:
                await self.send(target, reply, wait_throttled=MAX_THROTTLE_WAIT,
                                retries=self.zalo.transient_retries)
            except DeliveryError as exc:
                failed.add(target)
                undelivered.append(reply)
                log.warning("Zalo: reply to chat %s not delivered: %s: %s", target,
                            type(exc).__name__, exc.message)
        return undelivered


def coalesce(replies: Sequence[Outbound]) -> list[Outbound]:
    """Consecutive text replies to the same chat as one message when they fit in one (Zalo
    has no buttons to keep apart): fewer notifications on the phone, fewer calls."""
    out: list[Outbound] = []
    for reply in replies:
        last = out[-1] if out else None
        if (last is not None and last.chat_id == reply.chat_id
                and last.image is None and last.document is None
                and reply.image is None and reply.document is None):
            joined = message_text(last) + "\n\n" + message_text(reply)
            if utf16_units(joined) <= TEXT_LIMIT:
                out[-1] = Outbound(joined, chat_id=reply.chat_id, asks=reply.asks or last.asks)
                continue
        out.append(reply)
    return out


def _seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header's seconds (its date form is not used by such APIs)."""
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 <= seconds <= 86_400 else None


def _safe_filename(name: str) -> str:
    """A file name fit for a URL path: letters, digits, dot, dash, underscore."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "tep"
    return cleaned[:80]


def _media_page(filename: str) -> str:
    """The page a personal file's link opens: what it holds, and its download button."""
    grace = round(media.DOWNLOAD_GRACE.total_seconds() / 60)
    return (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{html.escape(t('zalo.media_page.title', name=filename))}</title></head>"
        '<body style="font-family: sans-serif; max-width: 36em; margin: 2em auto; '
        'padding: 0 1em">'
        f"<p>{html.escape(t('zalo.media_page.text', grace=grace))}</p>"
        f'<p><a href="?{DOWNLOAD}=1" style="display: inline-block; padding: .8em 1.2em; '
        'background: #0068ff; color: #fff; text-decoration: none; border-radius: .4em">'
        f"{html.escape(t('zalo.media_page.download', name=filename))}</a></p></body></html>"
    )


def _content_type(name: str) -> str:
    if name.endswith(".xlsx"):
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    if name.endswith(".png"):
        return "image/png"
    if name.endswith(".csv"):
        return "text/csv; charset=utf-8"
    return "application/octet-stream"
