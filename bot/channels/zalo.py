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
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import secrets
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from bot.channels.plain import message_text
from bot.channels.redact import guard_secret, redact
from bot.channels.split import split_text
from bot.config import Config, ZaloConfig
from common.catalogue import t
from common.delivery import (
    DeliveryError,
    Misconfigured,
    OutsideWindow,
    RecipientBlocked,
    Throttled,
    Transient,
)
from common.messages import Inbound, Outbound
from storage import inbox, media
from storage.db import Database

if TYPE_CHECKING:
    from handlers.core import Core

log = logging.getLogger(__name__)

CHANNEL = "zalo"
TEXT_LIMIT = 2000  # sendMessage: 1–2,000 characters
CAPTION_LIMIT = 2000  # undocumented for sendPhoto; assumed the same as a message
SECRET_HEADER = "X-Bot-Api-Secret-Token"
MAX_BODY = 1 << 20  # a webhook body larger than 1 MiB is refused (events are a few hundred bytes)
MAX_THROTTLE_WAIT = 60.0  # seconds a reply waits for a "too many requests" before it is given up
MEDIA_PATH = "/media"
# Event name -> Inbound.kind. Other events (Zalo may add some) are acknowledged and ignored.
EVENTS = {
    "message.text.received": "text",
    "message.image.received": "image",
    "message.sticker.received": "sticker",
    "message.unsupported.received": "unsupported",
}
_OK = b'{"ok": true}'
_RETRY_AFTER = re.compile(r"retry after (\d+(?:\.\d+)?)", re.IGNORECASE)


# ---- events -> Inbound ----------------------------------------------------------------------


class BadEvent(ValueError):
    """A webhook body or update that is not a Zalo event (the webhook answers 400)."""


def unwrap(body: object) -> dict:
    """The event in a webhook body or ``getUpdates`` result.

    Zalo has been seen sending it both wrapped, ``{"ok": true, "result": {event}}``, and
    flat, ``{event}``; both are accepted.
    """
    if isinstance(body, dict) and isinstance(body.get("result"), dict) and (
            "event_name" not in body):
        body = body["result"]
    if not isinstance(body, dict) or not isinstance(body.get("event_name"), str):
        raise BadEvent("not a Zalo event: no event_name")
    message = body.get("message")
    if not isinstance(message, dict):
        raise BadEvent("not a Zalo event: no message")
    return body


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


def to_inbound(event: dict) -> Inbound | None:
    """The neutral message of a Zalo event, or None for events the bot ignores (unknown
    event types, messages of bots, messages without a sender)."""
    kind = EVENTS.get(event.get("event_name"))
    message = event.get("message")
    if kind is None or not isinstance(message, dict):
        return None
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    sender_id = _id(sender.get("id"))
    if not sender_id or sender.get("is_bot") is True:
        return None
    text = _text(message.get("text")) if kind == "text" else _text(message.get("caption"))
    return Inbound(
        channel=CHANNEL,
        sender_id=sender_id,
        chat_id=_id(chat.get("id")) or sender_id,
        message_id=message_key(event),
        text=text,
        display_name=_text(sender.get("display_name")) or _text(sender.get("first_name")),
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
    fits), a document as a link, then the text in pieces of at most 2,000 characters, cut at
    paragraph or line ends where possible, with the options at the end."""
    calls: list[Request] = []
    text = message_text(outbound)
    if outbound.image is not None:
        if photo_url is None:
            text = "\n\n".join(p for p in (t("zalo.no_media"), text) if p)
        elif text and len(text) <= CAPTION_LIMIT:
            calls.append(Request("sendPhoto", {"chat_id": chat_id, "photo": photo_url,
                                               "caption": text}))
            text = ""
        else:
            calls.append(Request("sendPhoto", {"chat_id": chat_id, "photo": photo_url}))
    if outbound.document is not None:
        name = outbound.filename or "tep"
        line = (t("zalo.document_link", name=name, url=document_url, minutes=ttl_minutes)
                if document_url else t("zalo.no_media"))
        text = "\n\n".join(p for p in (text, line) if p)
    for piece in split_text(text, TEXT_LIMIT) if text.strip() else []:
        calls.append(Request("sendMessage", {"chat_id": chat_id, "text": piece}))
    return calls


# ---- errors ---------------------------------------------------------------------------------


class ZaloApiError(Exception):
    """Zalo refused a call: ``{"ok": false, "error_code", "description"}`` or an HTTP error."""

    def __init__(self, method: str, http_status: int, error_code: int | None,
                 description: str):
        super().__init__(f"{method}: {error_code or http_status} {description}".strip())
        self.method = method
        self.http_status = http_status
        self.error_code = error_code
        self.description = description


def delivery_error(exc: ZaloApiError, config: ZaloConfig) -> DeliveryError:
    """The channel-neutral error for a refused call.

    Zalo does not document its error codes, so the decision rests on what is certain (401 is a
    wrong token, 429 too many requests, 408 and 5xx passing failures) and, for the rest, on
    words of the description (``zalo.blocked_patterns``, ``zalo.window_patterns``); any other
    4xx is our request's fault, anything else is retried a bounded number of times.
    """
    codes = {exc.http_status} | ({exc.error_code} if exc.error_code is not None else set())
    text = str(exc)
    description = exc.description.lower()
    if 401 in codes:
        return Misconfigured(f"{text} (check GIAMNGHEO_ZALO_TOKEN)", channel=CHANNEL)
    if 429 in codes:
        found = _RETRY_AFTER.search(exc.description)
        wait = float(found.group(1)) if found else config.throttle_retry_seconds
        return Throttled(wait, text, channel=CHANNEL)
    if any(word in description for word in config.blocked_patterns):
        return RecipientBlocked(text, channel=CHANNEL)
    if any(word in description for word in config.window_patterns):
        return OutsideWindow(text, channel=CHANNEL)
    if 408 in codes or any(c >= 500 for c in codes):
        return Transient(text, channel=CHANNEL)
    if any(400 <= c < 500 for c in codes):
        return Misconfigured(text, channel=CHANNEL)
    return Transient(text, channel=CHANNEL)


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
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.config.request_timeout,
                                              sock_read=self.config.request_timeout),
                connector=aiohttp.TCPConnector(
                    limit=max(16, self.config.concurrent_updates), ttl_dns_cache=300),
                raise_for_status=False, trust_env=False)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, method: str, body: dict[str, Any] | None = None, *,
                   read_timeout: float | None = None) -> Any:
        """Call ``method``; its ``result``, or :class:`ZaloApiError`, or :class:`Transient`
        for a network failure or an answer that is not the Bot API's JSON."""
        timeout = (aiohttp.ClientTimeout(total=None, sock_connect=self.config.request_timeout,
                                         sock_read=read_timeout)
                   if read_timeout else None)
        try:
            async with self._http().post(self._prefix + method, json=body or {},
                                         timeout=timeout) as response:
                status, reason = response.status, response.reason or ""
                raw = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            reason = redact(f"{type(exc).__name__}: {exc}", self.config.token)
            raise Transient(f"{method}: {reason}", channel=CHANNEL) from None
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if not isinstance(data, dict) or "ok" not in data:
            if status >= 400:
                raise ZaloApiError(method, status, None, reason)
            raise Transient(f"{method}: an answer that is not the Bot API's (HTTP {status})",
                            channel=CHANNEL)
        if data.get("ok") is True and status < 400:
            return data.get("result")
        code = data.get("error_code")
        raise ZaloApiError(method, status,
                           code if isinstance(code, int) and not isinstance(code, bool) else None,
                           redact(_text(data.get("description")), self.config.token))


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
        me = await self.client.call("getMe")
        name = me.get("account_name") or me.get("display_name") if isinstance(me, dict) else "?"
        self._runner = web.AppRunner(self.web_app(), access_log=None,
                                     handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.zalo.listen_host, self.zalo.listen_port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []  # the port when it was 0
        self.port = sockets[0].getsockname()[1] if sockets else self.zalo.listen_port
        if not self.zalo.public_base_url:
            log.warning("Zalo: zalo.public_base_url is not set, so charts and spreadsheets "
                        "cannot be sent on Zalo")
        await self.recover()
        if self.zalo.mode == "webhook":
            if self.zalo.register_webhook:
                await self.client.call("setWebhook", {"url": self.webhook_url,
                                                      "secret_token": self.secret})
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
                inbound = to_inbound(unwrap(json.loads(payload)))
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
            inbound = to_inbound(event)
            if inbound is None:
                log.info("Zalo: ignored event %s", event.get("event_name"))
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
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    async with self.db.write() as conn:
                        new = await inbox.store(
                            conn, CHANNEL, [row for rows, _ in batch for row in rows],
                            self.core.clock())
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
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
            inbound, settle=[inbox.settle_statement(CHANNEL, inbound.message_id)])
        self.processed += 1
        await self.deliver_replies(inbound.chat_id, replies)

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
            await self.accept([json.loads(text)], [text])
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
        """Development mode: ``getUpdates`` (one event per call; 408 when none came)."""
        failures = 0
        timeout = self.zalo.poll_timeout
        while not self._stopping.is_set():
            try:
                result = await self.client.call("getUpdates", {"timeout": str(timeout)},
                                                read_timeout=timeout + 10)
                failures = 0
            except ZaloApiError as exc:
                if 408 in (exc.error_code, exc.http_status):
                    failures = 0
                    continue
                failures += 1
                log.warning("Zalo: getUpdates refused: %s", exc)
                await asyncio.sleep(min(60, 2 ** failures))
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
        token = request.match_info["token"]
        async with self.db.read() as conn:
            found = await media.get(conn, token, self.core.clock())
        if found is None:
            raise web.HTTPNotFound()
        content_type, filename, body = found
        headers = {"Cache-Control": "private, max-age=300", "X-Robots-Tag": "noindex"}
        if not content_type.startswith("image/"):
            headers["Content-Disposition"] = f"attachment; filename=\"{filename}\""
        return web.Response(body=body, content_type=content_type, headers=headers)

    async def _publish(self, body: bytes, content_type: str, filename: str) -> str | None:
        """A short-lived public link to ``body``, or None without ``zalo.public_base_url``."""
        if not self.zalo.public_base_url:
            return None
        async with self.db.write() as conn:
            token = await media.put(conn, body, content_type=content_type, filename=filename,
                                    at=self.core.clock(),
                                    ttl=timedelta(minutes=self.zalo.media_ttl_minutes))
        return f"{self.zalo.public_base_url}{MEDIA_PATH}/{token}/{filename}"

    async def _purge_media_forever(self) -> None:
        while not self._stopping.is_set():
            try:
                async with self.db.write() as conn:
                    await media.purge(conn, self.core.clock())
            except Exception:
                log.exception("Zalo: could not purge expired media")
            await asyncio.sleep(600)

    # ---- sending ------------------------------------------------------------------------

    async def send(self, chat_id: str, outbound: Outbound, *, wait_throttled: float = 0
                   ) -> None:
        """Send ``outbound`` to ``chat_id`` or raise a channel-neutral delivery error; a call
        throttled for at most ``wait_throttled`` seconds is tried once more."""
        photo_url = document_url = None
        if outbound.image is not None:
            photo_url = await self._publish(outbound.image, "image/png", "bieu-do.png")
        if outbound.document is not None:
            name = _safe_filename(outbound.filename or "tep")
            document_url = await self._publish(outbound.document, _content_type(name), name)
        for request in requests_for(chat_id, outbound, photo_url=photo_url,
                                    document_url=document_url,
                                    ttl_minutes=self.zalo.media_ttl_minutes):
            await self._call(request, wait_throttled)

    async def _call(self, request: Request, wait_throttled: float) -> Any:
        for attempt in range(2):
            try:
                return await self.client.call(request.method, request.body)
            except ZaloApiError as exc:
                error = delivery_error(exc, self.zalo)
                if (isinstance(error, Throttled) and not attempt
                        and error.retry_after <= wait_throttled):
                    await asyncio.sleep(error.retry_after)
                    continue
                raise error from None
        raise AssertionError("unreachable")

    async def deliver_replies(self, chat_id: str, replies: Sequence[Outbound]) -> None:
        """Send the core's replies in order; a chat that fails gets none of its later replies
        (as on Telegram: a person who got no answer writes again)."""
        failed: set[str] = set()
        for reply in coalesce(replies):
            target = reply.chat_id or chat_id
            if target in failed:
                continue
            try:
                await self.send(target, reply, wait_throttled=MAX_THROTTLE_WAIT)
            except DeliveryError as exc:
                failed.add(target)
                log.warning("Zalo: reply to chat %s not delivered: %s: %s", target,
                            type(exc).__name__, exc.message)


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
            if len(joined) <= TEXT_LIMIT:
                out[-1] = Outbound(joined, chat_id=reply.chat_id)
                continue
        out.append(reply)
    return out


def _safe_filename(name: str) -> str:
    """A file name fit for a URL path: letters, digits, dot, dash, underscore."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "tep"
    return cleaned[:80]


def _content_type(name: str) -> str:
    if name.endswith(".xlsx"):
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    if name.endswith(".png"):
        return "image/png"
    if name.endswith(".csv"):
        return "text/csv; charset=utf-8"
    return "application/octet-stream"
