"""A fake Zalo Bot API server on 127.0.0.1 for tests: no request ever leaves the machine.

It speaks the Zalo Bot Platform API (``POST {base}/bot<TOKEN>/<method>`` with a JSON body, answers
``{"ok": true, "result": …}`` or ``{"ok": false, "error_code": N, "description": …}``) well
enough for the bot's Zalo client to run against it: ``getMe``, long-polling ``getUpdates`` (one
event per answer, no update ids), the webhook methods, ``sendMessage``, ``sendPhoto`` (the fake
fetches the photo URL, as Zalo does) and ``sendChatAction``. Every request is recorded as a
:class:`Call`. A test queues incoming events for polling (:meth:`FakeZaloApi.queue`) or posts them
to the bot's webhook (:meth:`FakeZaloApi.post_webhook`), and makes methods fail
(:meth:`FakeZaloApi.fail`), slow down (:meth:`FakeZaloApi.delay`), hang without ever answering
(:meth:`FakeZaloApi.hang`) or lose the connection (:meth:`FakeZaloApi.drop_connection`);
:attr:`FakeZaloApi.intercept` sees every call first and may answer it itself. The module-level
:func:`text_event`, :func:`image_event`, :func:`sticker_event`, :func:`voice_event` and
:func:`unsupported_event` build events the way the webhook documentation shapes them,
:func:`docs_update` the shape of the ``getUpdates`` documentation's sample,
:func:`own_message_event` a message whose sender is the bot itself.

    async with FakeZaloApi() as api:
        client = ZaloClient(base_url=api.base_url, token=api.token)
        api.queue(text_event("xin chào", user_id="u1"))
        await api.wait_for("sendMessage")
        assert api.sent_texts("u1") == [...]

What each shape rests on (the documentation is mirrored in public repositories, e.g.
``lamdt1/ckvn-bot`` ``docs/zalo-bot-doc.md`` and ``XuanNguyenNB/QuanLyThuChi_Bot_Telegram_Zalom``
``docs/ZALO_BOT_API.md``; the original pages are under bot.zapps.me/docs):

* Webhook events (bot.zapps.me/docs/webhook/): ``{"ok": true, "result": {"event_name",
  "message": {"from": {"id", "display_name", "is_bot"}, "chat": {"id", "chat_type"}, "text",
  "message_id", "date"}}}``; an image carries ``photo`` (its URL) and ``caption``, a sticker
  ``sticker`` and ``url``, a voice message ``voice_url``. Integrations report the body arriving
  flat as well (``openclaw/openclaw`` ``extensions/zalo/src/monitor.ts``): ``post_webhook`` sends
  either.
* ``getUpdates`` (bot.zapps.me/docs/apis/getUpdates/): the documentation's sample answer has
  no ``event_name`` and names the sender ``from.first_name``; :func:`docs_update` builds it.
* Errors (bot.zapps.me/docs/error-code/): 400 bad request, 401 unauthorized (wrong or reset
  token), 403 «Internal server error», 404 not found, 408 request timeout, 429 «Quota
  exceeded». Measured against a real bot (``trongnguyenbinh/zalo-bot-mcp``
  ``src/zalo_bot_mcp/zalo_api.py``), the HTTP status is the error's code, and an idle long poll
  ends in HTTP 408 ``{"ok": false, "description": "Request timeout"}`` (no ``error_code``);
  the fake answers so unless ``error_status`` / ``poll_timeout_status`` say otherwise.
* Zalo's front servers send the ``Server`` header twice (``vcth4nh/hermes-zalo-bot``
  ``zalo/api.py``); so does the fake, so a client that refuses that fails here first.

Choices where Zalo documents nothing (all configurable on the constructor):

* ``getUpdates`` while a webhook is set answers ``ok: false`` with error_code
  ``webhook_conflict_code`` (default 409).
* Validation errors (bad chat_id, text length, secret length, …) answer ``ok: false``,
  error_code 400. Lengths are counted in UTF-16 code units (an emoji counts two), as a
  JavaScript service counts them. A wrong token is 401, an unknown method 404, a body that is
  not a JSON object 400 (each with the same JSON shape).
* ``setWebhook`` accepts ``http://`` URLs too (real Zalo wants a public HTTPS URL) so a test can
  point it at a local server.
* ``sendChatAction`` answers ``{"ok": true}`` without a result, as documented.
* An event taken by ``getUpdates`` is gone, even if the answer is lost (Zalo has no offsets),
  except that a poll whose client has already disconnected does not take one.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

DEFAULT_TOKEN = "zalo-test-token"
BOT_ID = "2301863402458261977"
TEXT_LIMIT = 2000
SECRET_MIN, SECRET_MAX = 8, 256
SECRET_HEADER = "X-Bot-Api-Secret-Token"
CHAT_ACTIONS = {"typing", "upload_photo"}
SERVER_HEADERS = ("ZaloBotAPI", "nginx")
METHODS = {
    "getMe", "getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo", "sendMessage",
    "sendPhoto", "sendChatAction",
}


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


UNSET: Any = _Unset()  # "not given": post_webhook then uses what setWebhook stored
DROP: Any = object()  # an intercept's answer: close the connection, deliver nothing


def now_ms() -> int:
    """The current time in epoch milliseconds, as Zalo dates things."""
    return int(time.time() * 1000)


def new_message_id() -> str:
    """A fresh message id shaped like Zalo's (20 hex digits)."""
    return uuid.uuid4().hex[:20]


# ---- incoming events ----------------------------------------------------------------------


def _event(event_name: str, *, user_id: str, chat_id: str | None, display_name: str,
           message_id: str | None, date_ms: int | None, chat_type: str,
           is_bot: bool | None = False, **content: Any) -> dict:
    sender: dict[str, Any] = {"id": user_id, "display_name": display_name}
    if is_bot is not None:
        sender["is_bot"] = is_bot
    return {
        "event_name": event_name,
        "message": {
            "message_id": message_id if message_id is not None else new_message_id(),
            "date": date_ms if date_ms is not None else now_ms(),
            **content,
            "chat": {"id": chat_id if chat_id is not None else user_id, "chat_type": chat_type},
            "from": sender,
        },
    }


def text_event(text: str, *, user_id: str = "u1", chat_id: str | None = None,
               display_name: str = "Nguyễn Văn A", message_id: str | None = None,
               date_ms: int | None = None, chat_type: str = "PRIVATE",
               is_bot: bool | None = False) -> dict:
    """``message.text.received``: ``user_id`` typed ``text`` (in their private chat by default)."""
    return _event("message.text.received", user_id=user_id, chat_id=chat_id,
                  display_name=display_name, message_id=message_id, date_ms=date_ms,
                  chat_type=chat_type, is_bot=is_bot, text=text)


def image_event(photo: str = "https://photo-stal.zadn.vn/fake/anh.jpg", *,
                caption: str | None = None, user_id: str = "u1", chat_id: str | None = None,
                display_name: str = "Nguyễn Văn A", message_id: str | None = None,
                date_ms: int | None = None, chat_type: str = "PRIVATE") -> dict:
    """``message.image.received``: the image's URL in ``photo`` (and ``caption`` when given)."""
    content: dict[str, Any] = {"photo": photo}
    if caption is not None:
        content["caption"] = caption
    return _event("message.image.received", user_id=user_id, chat_id=chat_id,
                  display_name=display_name, message_id=message_id, date_ms=date_ms,
                  chat_type=chat_type, **content)


def sticker_event(sticker: str = "bfe3a3d7ab92421c1b83", *,
                  url: str = "https://zalo-api.zadn.vn/api/emoticon/sticker/webpc?eid=1",
                  user_id: str = "u1", chat_id: str | None = None,
                  display_name: str = "Nguyễn Văn A", message_id: str | None = None,
                  date_ms: int | None = None, chat_type: str = "PRIVATE") -> dict:
    """``message.sticker.received`` with the ``sticker`` id and its image ``url``."""
    return _event("message.sticker.received", user_id=user_id, chat_id=chat_id,
                  display_name=display_name, message_id=message_id, date_ms=date_ms,
                  chat_type=chat_type, sticker=sticker, url=url)


def voice_event(voice_url: str = "https://voice-stal.zadn.vn/fake/loi-nhan.aac", *,
                user_id: str = "u1", chat_id: str | None = None,
                display_name: str = "Nguyễn Văn A", message_id: str | None = None,
                date_ms: int | None = None, chat_type: str = "PRIVATE") -> dict:
    """``message.voice.received``: a voice message, its audio at ``voice_url``."""
    return _event("message.voice.received", user_id=user_id, chat_id=chat_id,
                  display_name=display_name, message_id=message_id, date_ms=date_ms,
                  chat_type=chat_type, voice_url=voice_url)


def unsupported_event(*, user_id: str = "u1", chat_id: str | None = None,
                      display_name: str = "Nguyễn Văn A", message_id: str | None = None,
                      date_ms: int | None = None, chat_type: str = "PRIVATE") -> dict:
    """``message.unsupported.received``: something Zalo does not pass on (no content)."""
    return _event("message.unsupported.received", user_id=user_id, chat_id=chat_id,
                  display_name=display_name, message_id=message_id, date_ms=date_ms,
                  chat_type=chat_type)


def docs_update(text: str, *, user_id: str = "u1", first_name: str = "Nguyen Van A",
                message_id: str | None = None, date_ms: int | None = None) -> dict:
    """A text message in the shape of the ``getUpdates`` documentation's sample answer: no
    ``event_name``, the sender's name in ``from.first_name``, no ``is_bot``."""
    return {
        "message": {
            "chat": {"id": user_id, "chat_type": "PRIVATE"},
            "text": text,
            "message_id": message_id if message_id is not None else new_message_id(),
            "date": date_ms if date_ms is not None else now_ms(),
            "from": {"id": user_id, "first_name": first_name},
        },
    }


def own_message_event(text: str, *, chat_id: str, bot_id: str = "",
                      is_bot: bool | None = None, message_id: str | None = None) -> dict:
    """A text event whose sender is the bot itself (``bot_id``, by default the fake's
    :data:`BOT_ID`), as integrations report the bot's own messages coming back; ``is_bot`` is
    left out unless given."""
    return _event("message.text.received", user_id=bot_id or BOT_ID, chat_id=chat_id,
                  display_name="Bot Giảm nghèo", message_id=message_id, date_ms=None,
                  chat_type="PRIVATE", is_bot=is_bot, text=text)


# ---- records ------------------------------------------------------------------------------


@dataclass
class Call:
    """One request the bot made: method, parameters, what the fake answered."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)  # when the request arrived
    photo_bytes: bytes | None = None  # sendPhoto: what the fake downloaded from ``photo``
    photo_content_type: str | None = None
    photo_error: str | None = None  # sendPhoto: why the download failed
    token: str = ""
    http_status: int | None = None  # None while unanswered, or when dropped
    response: dict | None = None  # the JSON body the fake answered
    dropped: bool = False  # the fake closed the connection without answering
    done: bool = False  # answered, dropped, or abandoned by the client

    @property
    def ok(self) -> bool:
        return bool(self.response and self.response.get("ok") is True)

    @property
    def result(self) -> Any:
        return (self.response or {}).get("result")

    @property
    def error_code(self) -> int | None:
        return (self.response or {}).get("error_code")

    @property
    def description(self) -> str | None:
        return (self.response or {}).get("description")

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")

    @property
    def text(self) -> str:
        return self.params.get("text") or self.params.get("caption") or ""


@dataclass
class Failure:
    error_code: int
    description: str
    http_status: int
    times: int
    chat_id: str | None


@dataclass
class Drop:
    times: int
    after: bool


@dataclass
class Hang:
    times: int
    chat_id: str | None


def _error(code: int, description: str) -> dict:
    return {"ok": False, "error_code": code, "description": description}


def _status_of(code: int) -> int:
    """The HTTP status Zalo answers an error with: its code when that is an HTTP status."""
    return code if 400 <= code <= 599 else 200


def _utf16(text: str) -> int:
    """A text's length as a JavaScript service counts it (an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://")) and len(
        value.split("://", 1)[1]) > 0


# ---- the server ---------------------------------------------------------------------------


class FakeZaloApi:
    """The fake server; use as ``async with FakeZaloApi() as api``."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, bot_id: str = BOT_ID,
                 poll_timeout_status: int = 408, error_status: int | None = None,
                 webhook_conflict_code: int = 409, photo_fetch_timeout: float = 10.0):
        self.token = token
        self.bot_id = bot_id
        self.poll_timeout_status = poll_timeout_status
        self.error_status = error_status
        self.webhook_conflict_code = webhook_conflict_code
        self.photo_fetch_timeout = photo_fetch_timeout
        self.calls: list[Call] = []
        self.delivered: list[dict] = []  # events getUpdates handed out, in order
        self.webhook_url: str = ""
        self.webhook_secret: str | None = None
        self.webhook_updated_at: int = 0
        self.port = 0
        self._pending: list[dict] = []
        self._failures: dict[str, list[Failure]] = {}
        self._delays: dict[str, float] = {}
        self._drops: dict[str, list[Drop]] = {}
        self._hangs: dict[str, list[Hang]] = {}
        # Called with each call of a known method before it is answered: None lets the fake
        # answer, ``(http status, body)`` is the answer, ``DROP`` closes the connection
        # unanswered (nothing delivered); either may be awaitable (a test holds a request
        # that way, or fails one chat, or counts what arrives when).
        self.intercept: Callable[[Call], Any] | None = None
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    # ---- lifecycle ------------------------------------------------------------------------

    async def start(self) -> FakeZaloApi:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5,
                                     handler_cancellation=True)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        self._closing = True
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> FakeZaloApi:
        try:
            return await self.start()
        except BaseException:
            await self.close()
            raise

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``; the client calls ``f"{base_url}/bot{token}/{method}"``."""
        return f"http://127.0.0.1:{self.port}"

    def url(self, method: str, token: str | None = None) -> str:
        """The full URL of ``method`` (with the valid token unless another is given)."""
        return f"{self.base_url}/bot{self.token if token is None else token}/{method}"

    # ---- what a test does -----------------------------------------------------------------

    def queue(self, event: dict) -> dict:
        """Queue ``event`` for getUpdates (one per answer, oldest first); wakes a waiting poll."""
        self._pending.append(event)
        self._notify()
        return event

    @property
    def pending(self) -> list[dict]:
        """Queued events not yet handed out by getUpdates."""
        return list(self._pending)

    def fail(self, method: str, *, error_code: int, description: str,
             http_status: int | None = None, times: int = 1, chat_id: str | None = None) -> None:
        """Answer the next ``times`` calls of ``method`` (to ``chat_id`` only, when given) with
        ``{"ok": false, "error_code": …, "description": …}`` and HTTP ``http_status`` (by
        default the code itself when it is an HTTP status, as Zalo answers, else 200).
        Failures queue up: the first matching one is used first."""
        self._failures.setdefault(method, []).append(
            Failure(error_code, description,
                    _status_of(error_code) if http_status is None else http_status, times,
                    None if chat_id is None else str(chat_id)))

    def delay(self, method: str, seconds: float) -> None:
        """Wait ``seconds`` before answering every call of ``method`` (0 to stop)."""
        if seconds > 0:
            self._delays[method] = seconds
        else:
            self._delays.pop(method, None)

    def drop_connection(self, method: str, times: int = 1, *, after: bool = False) -> None:
        """Close the connection instead of answering the next ``times`` calls of ``method``.

        With ``after=True`` the call is carried out first (the message counts as sent) and only
        the answer is lost, as when the network fails on the way back."""
        self._drops.setdefault(method, []).append(Drop(times, after))

    def hang(self, method: str, times: int = 1, *, chat_id: str | None = None) -> None:
        """Never answer the next ``times`` calls of ``method`` (to ``chat_id`` only, when
        given): the fake holds each until the client gives up or the fake closes, and the
        message is not delivered (a connection that stalls on its way to Zalo)."""
        self._hangs.setdefault(method, []).append(
            Hang(times, None if chat_id is None else str(chat_id)))

    def clear_faults(self) -> None:
        """Forget every pending fail(), delay(), hang() and drop_connection()."""
        self._failures.clear()
        self._delays.clear()
        self._drops.clear()
        self._hangs.clear()

    async def post_webhook(self, event: dict | None = None, *, wrapped: bool = True,
                           secret: str | None = UNSET, url: str = UNSET,
                           raw_body: bytes | None = None,
                           headers: dict[str, str] | None = None) -> tuple[int, str]:
        """POST ``event`` to the bot's webhook as Zalo does; returns (HTTP status, body text).

        The body is ``{"ok": true, "result": event}`` (``wrapped``) or the bare ``event``, or
        ``raw_body`` verbatim. The ``X-Bot-Api-Secret-Token`` header carries ``secret`` (default:
        the one setWebhook stored; None leaves the header out). ``url`` defaults to the one
        setWebhook stored."""
        target = self.webhook_url if url is UNSET else url
        if not target:
            raise RuntimeError("no webhook URL: the bot has not called setWebhook; pass url=")
        key = self.webhook_secret if secret is UNSET else secret
        if raw_body is None:
            payload = {"ok": True, "result": event} if wrapped else event
            raw_body = json.dumps(payload, ensure_ascii=False).encode()
        sent_headers = {"Content-Type": "application/json"}
        if key is not None:
            sent_headers[SECRET_HEADER] = key
        sent_headers.update(headers or {})
        assert self._session is not None, "FakeZaloApi is not started"
        async with self._session.post(target, data=raw_body, headers=sent_headers) as response:
            return response.status, await response.text()

    # ---- what a test reads ----------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def _sent(self, method: str, chat_id: str | None) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.ok
                and (chat_id is None or str(c.chat_id) == str(chat_id))]

    def sent_texts(self, chat_id: str | None = None) -> list[str]:
        """Texts of the successful sendMessage calls (to ``chat_id``), in order."""
        return [c.params["text"] for c in self._sent("sendMessage", chat_id)]

    def photos(self, chat_id: str | None = None) -> list[Call]:
        """The successful sendPhoto calls (to ``chat_id``), in order; see ``photo_bytes``."""
        return self._sent("sendPhoto", chat_id)

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5,  # noqa: ASYNC109
                       *, answered: bool = True) -> list[Call]:
        """Wait until ``count`` calls of ``method`` have arrived (and been answered, unless
        ``answered=False``); return them all. Raises AssertionError after ``timeout`` s."""

        def matching() -> list[Call]:
            return [c for c in self.calls if c.method == method and (c.done or not answered)]

        if not await self._wait_until(lambda: len(matching()) >= count, timeout):
            raise AssertionError(f"waited {timeout}s for {count} {method} call(s), got "
                                 f"{len(matching())}: {[c.params for c in matching()]}")
        return matching()

    async def wait_drained(self, timeout: float = 5) -> None:  # noqa: ASYNC109
        """Wait until getUpdates has handed out every queued event."""
        if not await self._wait_until(lambda: not self._pending, timeout):
            raise AssertionError(f"{len(self._pending)} queued event(s) not fetched in {timeout}s")

    # ---- plumbing -------------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_until(self, predicate: Callable[[], bool], seconds: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)
        return True

    def _reply(self, call: Call, status: int, body: dict) -> web.Response:
        call.http_status = status
        call.response = body
        response = web.json_response(body, status=status,
                                     dumps=lambda o: json.dumps(o, ensure_ascii=False))
        for server in SERVER_HEADERS:  # twice, as Zalo's front servers send it
            response.headers.add("Server", server)
        return response

    def _ok(self, result: Any = UNSET) -> tuple[int, dict]:
        return 200, {"ok": True} if result is UNSET else {"ok": True, "result": result}

    def _bad(self, description: str, code: int = 400) -> tuple[int, dict]:
        status = _status_of(code) if self.error_status is None else self.error_status
        return status, _error(code, description)

    @staticmethod
    def _take(queue: list | None, match: Callable[[Any], bool] = lambda _: True) -> Any:
        for item in queue or []:
            if match(item):
                item.times -= 1
                if item.times <= 0:
                    queue.remove(item)  # type: ignore[union-attr]
                return item
        return None

    def _drop(self, request: web.Request, call: Call) -> web.Response:
        call.dropped = True
        call.http_status = None
        call.response = None
        if request.transport is not None:
            request.transport.abort()
        return web.Response()  # never reaches the client

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        call = Call(request.match_info["method"], dict(request.query),
                    token=request.match_info["token"])
        raw = await request.read()
        bad_body = False
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                bad_body = True
            else:
                if isinstance(body, dict):
                    call.params.update(body)
                else:
                    bad_body = True
        self.calls.append(call)  # at once: a long poll is visible while it waits
        self._notify()
        try:
            return await self._answer(request, call, bad_body)
        finally:
            call.done = True
            self._notify()

    async def _answer(self, request: web.Request, call: Call, bad_body: bool
                      ) -> web.StreamResponse:
        if call.token != self.token:
            return self._reply(call, 401, _error(401, "Unauthorized"))
        if call.method not in METHODS:
            return self._reply(call, 404, _error(404, "Not Found"))
        if bad_body:
            return self._reply(call, 400, _error(400, "Bad Request: body is not a JSON object"))
        if self.intercept is not None:
            answer = self.intercept(call)
            if inspect.isawaitable(answer):
                answer = await answer
            if answer is DROP:
                return self._drop(request, call)
            if answer is not None:
                return self._reply(call, *answer)
        if self._take(self._hangs.get(call.method),
                      lambda h: h.chat_id is None or h.chat_id == str(call.chat_id)):
            await asyncio.Event().wait()  # cancelled when the client goes, or at close()
        drop = self._take(self._drops.get(call.method))
        if drop is not None and not drop.after:
            return self._drop(request, call)
        if call.method in self._delays:
            await asyncio.sleep(self._delays[call.method])
        failure = self._take(self._failures.get(call.method),
                             lambda f: f.chat_id is None or f.chat_id == str(call.chat_id))
        if failure is not None:
            return self._reply(call, failure.http_status,
                               _error(failure.error_code, failure.description))
        status, body = await getattr(self, f"_m_{call.method}")(call, request)
        if drop is not None:
            return self._drop(request, call)
        return self._reply(call, status, body)

    # ---- the methods ----------------------------------------------------------------------

    async def _m_getMe(self, call: Call, request: web.Request) -> tuple[int, dict]:
        # the documentation's sample answer: no display name
        return self._ok({"id": self.bot_id, "account_name": "bot.giamngheo",
                         "account_type": "BASIC", "can_join_groups": False})

    async def _m_getUpdates(self, call: Call, request: web.Request) -> tuple[int, dict]:
        try:
            timeout = float(call.params.get("timeout", "30"))
        except (TypeError, ValueError):
            return self._bad("Bad Request: timeout must be a number of seconds")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0.0)
        while True:
            if self.webhook_url:
                return self._bad("Conflict: getUpdates is unavailable while a webhook is set",
                                 self.webhook_conflict_code)
            gone = request.transport is None or request.transport.is_closing()
            if self._pending and not self._closing and not gone:
                event = self._pending.pop(0)
                self.delivered.append(event)
                return self._ok(event)
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing or gone:
                # measured: HTTP 408, no error_code (see the module's docstring)
                return self.poll_timeout_status, {"ok": False,
                                                  "description": "Request timeout"}
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                # wake now and then to notice a client that went away
                await asyncio.wait_for(changed.wait(), min(remaining, 0.5))

    async def _m_setWebhook(self, call: Call, request: web.Request) -> tuple[int, dict]:
        url, secret = call.params.get("url"), call.params.get("secret_token")
        if not _is_url(url):
            return self._bad("Bad Request: url must be an http(s) URL")
        if not isinstance(secret, str) or not SECRET_MIN <= len(secret) <= SECRET_MAX:
            return self._bad(f"Bad Request: secret_token must be {SECRET_MIN}-{SECRET_MAX} "
                             "characters")
        self.webhook_url, self.webhook_secret = url, secret
        self.webhook_updated_at = now_ms()
        self._notify()
        return self._ok({"url": url, "updated_at": self.webhook_updated_at})

    async def _m_deleteWebhook(self, call: Call, request: web.Request) -> tuple[int, dict]:
        self.webhook_url, self.webhook_secret = "", None
        self.webhook_updated_at = now_ms()
        return self._ok({"url": "", "updated_at": self.webhook_updated_at})

    async def _m_getWebhookInfo(self, call: Call, request: web.Request) -> tuple[int, dict]:
        return self._ok({"url": self.webhook_url, "updated_at": self.webhook_updated_at})

    def _check_chat(self, call: Call) -> tuple[int, dict] | None:
        chat_id = call.params.get("chat_id")
        if not isinstance(chat_id, str) or not chat_id:
            return self._bad("Bad Request: chat_id must be a non-empty string")
        return None

    def _sent_result(self) -> tuple[int, dict]:
        return self._ok({"message_id": new_message_id(), "date": now_ms()})

    async def _m_sendMessage(self, call: Call, request: web.Request) -> tuple[int, dict]:
        if (bad := self._check_chat(call)) is not None:
            return bad
        text = call.params.get("text")
        if not isinstance(text, str) or not text:
            return self._bad("Bad Request: text must be a non-empty string")
        if _utf16(text) > TEXT_LIMIT:
            return self._bad(f"Bad Request: text is longer than {TEXT_LIMIT} characters")
        return self._sent_result()

    async def _m_sendPhoto(self, call: Call, request: web.Request) -> tuple[int, dict]:
        if (bad := self._check_chat(call)) is not None:
            return bad
        photo = call.params.get("photo")
        if not _is_url(photo):
            return self._bad("Bad Request: photo must be an http(s) URL")
        caption = call.params.get("caption")
        if caption is not None and not isinstance(caption, str):
            return self._bad("Bad Request: caption must be a string")
        if caption is not None and not 1 <= _utf16(caption) <= TEXT_LIMIT:
            return self._bad(f"Bad Request: caption must be 1-{TEXT_LIMIT} characters")
        assert self._session is not None
        try:
            timeout = aiohttp.ClientTimeout(total=self.photo_fetch_timeout)
            async with self._session.get(photo, timeout=timeout) as response:
                content = await response.read()
                if response.status != 200:
                    call.photo_error = f"HTTP {response.status}"
                else:
                    call.photo_bytes = content
                    call.photo_content_type = response.content_type
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            call.photo_error = f"{type(exc).__name__}: {exc}"
        if call.photo_error is not None:
            return self._bad("Bad Request: cannot fetch photo")
        return self._sent_result()

    async def _m_sendChatAction(self, call: Call, request: web.Request) -> tuple[int, dict]:
        if (bad := self._check_chat(call)) is not None:
            return bad
        if call.params.get("action") not in CHAT_ACTIONS:
            return self._bad(f"Bad Request: action must be one of {sorted(CHAT_ACTIONS)}")
        return self._ok()
