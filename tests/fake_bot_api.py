"""A fake Telegram Bot API server on 127.0.0.1 for tests: no request ever leaves the machine.

It speaks just enough of the Bot API for python-telegram-bot's real stack (HTTPXRequest,
Updater, Application) to run against it: ``getMe``, long-polling ``getUpdates``, the send
methods, callback answers, keyboard edits, ``leaveChat`` and the command menu. Every request is
recorded as a :class:`Call` with its parsed parameters (JSON, form-encoded or multipart, files
included), so a test can assert on what the bot sent. A test can queue updates
(:meth:`FakeBotApi.send_text`, :meth:`FakeBotApi.press`, :meth:`FakeBotApi.edit_text`,
:meth:`FakeBotApi.block`, :meth:`FakeBotApi.add_to_group`, …), deliver an update again
(:meth:`FakeBotApi.redeliver`), and make a method fail the way Telegram does
(:meth:`FakeBotApi.fail`).

Where Telegram's documentation (core.telegram.org/bots/api) says how it behaves, the fake
behaves so, and so the bot's tests can fail:

* a token other than ``token`` (when given) is refused: 401 «Unauthorized» for a well-formed
  token, 404 «Not Found» for a malformed one (what Telegram answers; python-telegram-bot's
  ``BaseRequest._request_wrapper`` names both cases);
* ``getUpdates``' ``allowed_updates``: "Specify an empty list to receive all update types
  except chat_member, message_reaction, and message_reaction_count (default). If not
  specified, the previous setting will be used." Updates of other types are not delivered;
* a message's text is "1-4096 characters after entities parsing", a caption "0-1024
  characters", a button's callback data "1-64 bytes" (sendMessage, sendPhoto,
  InlineKeyboardButton): longer ones are refused with Telegram's 400 descriptions («message is
  too long», «message caption is too long», «message text is empty», «BUTTON_DATA_INVALID»).
  Lengths are counted in UTF-16 code units, as Telegram counts entity offsets (the strict
  reading: an emoji counts two);
* people's messages carry the ``entities`` Telegram adds: ``bot_command`` for a leading
  "/command" and ``mention`` for each "@username" (MessageEntity).

    async with FakeBotApi() as api:
        config = ...base_url=api.base_url, base_file_url=api.base_file_url...

``python -m tests.fake_bot_api --port 8081 --token 123:ABC`` runs it on its own for trying the
real process by hand (see :func:`main`).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Giảm nghèo",
    "username": "giamngheo_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
# Parameters PTB sends JSON-encoded inside form fields.
JSON_FIELDS = {
    "reply_markup", "commands", "allowed_updates", "scope", "entities", "caption_entities",
    "link_preview_options", "reply_parameters", "media",
}
INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout", "user_id"}
# getUpdates' default ("all update types except …"), and the documented limits.
NOT_BY_DEFAULT = {"chat_member", "message_reaction", "message_reaction_count"}
TEXT_LIMIT, CAPTION_LIMIT, CALLBACK_DATA_LIMIT = 4096, 1024, 64
_COMMAND = re.compile(r"/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?")
_MENTION = re.compile(r"@[A-Za-z0-9_]{5,32}")


def units(text: str) -> int:
    """Length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def entities(text: str) -> list[dict]:
    """The entities Telegram adds to a person's message (offsets in UTF-16 code units)."""
    found = []
    command = _COMMAND.match(text)
    if command:
        found.append({"type": "bot_command", "offset": 0, "length": units(command.group())})
    for mention in _MENTION.finditer(text):
        if command and mention.start() < command.end():
            continue
        found.append({"type": "mention", "offset": units(text[:mention.start()]),
                      "length": units(mention.group())})
    return found


@dataclass
class Call:
    """One request the bot made: the method, its parameters, uploaded files, our answer."""

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    result: Any = None
    error: int | None = None  # the HTTP status when the fake answered with an error
    at: float = field(default_factory=time.monotonic)  # when the request arrived

    @property
    def chat_id(self) -> int | str | None:
        return self.params.get("chat_id")

    @property
    def text(self) -> str:
        return self.params.get("text") or self.params.get("caption") or ""

    @property
    def keyboard(self) -> list[list[dict]]:
        """The inline keyboard's rows of buttons ({"text": …, "callback_data": …})."""
        markup = self.params.get("reply_markup") or {}
        return markup.get("inline_keyboard", [])

    @property
    def buttons(self) -> list[dict]:
        return [button for row in self.keyboard for button in row]


@dataclass
class Failure:
    status: int
    description: str
    retry_after: float | None
    times: int
    skip: int


def _parse_value(name: str, value: str) -> Any:
    if name in JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    if name in INT_FIELDS:
        try:
            return int(value)
        except ValueError:
            return value
    if value in ("true", "false"):
        return value == "true"
    return value


class FakeBotApi:
    """The fake server. ``clock`` dates injected messages (default: the real time); ``token``,
    when given, is the only token accepted."""

    def __init__(self, clock: Callable[[], datetime] | None = None, *,
                 token: str | None = None, first_update_id: int = 1000):
        self.clock = clock or (lambda: datetime.now(UTC))
        self.token = token
        self.calls: list[Call] = []
        self.commands: list[dict] = []
        self.left: list[int | str] = []  # chats the bot left (leaveChat)
        self.allowed_updates: list[str] = []  # the last getUpdates setting ([]: the default)
        self.dropped: list[dict] = []  # updates not delivered: their type was not allowed
        self.port = 0
        self._pending: list[dict] = []  # updates not yet confirmed by an offset
        self._again: list[dict] = []  # updates to deliver once more, whatever the offset
        self._delivered: dict[int, dict] = {}
        self._update_ids = itertools.count(first_update_id)
        self._message_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._failures: dict[str, list[Failure]] = defaultdict(list)
        self._changed = asyncio.Condition()
        self._deliveries = 0  # getUpdates answers that carried updates
        self._polled_after = 0  # deliveries followed by another getUpdates call
        self._closing = False
        self._runner: web.AppRunner | None = None
        # Called with each call before it is answered; a Response it returns is the answer
        # (a test uses it to crash the bot in the middle of a request, or to refuse one chat).
        self.intercept: Callable[[Call], Any] | None = None

    # ---- lifecycle ------------------------------------------------------------------------

    async def start(self) -> FakeBotApi:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        self._closing = True
        async with self._changed:
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotApi:
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ---- what a test does -----------------------------------------------------------------

    def user(self, user_id: int, first_name: str = "Lò", last_name: str = "Văn Páo") -> dict:
        return {"id": user_id, "is_bot": False, "first_name": first_name,
                "last_name": last_name, "language_code": "vi"}

    def private_chat(self, user_id: int) -> dict:
        return {"id": user_id, "type": "private", "first_name": "Lò"}

    @staticmethod
    def group_chat(chat_id: int, chat_type: str = "group") -> dict:
        return {"id": chat_id, "type": chat_type, "title": "Nhóm cán bộ xã"}

    def message(self, user_id: int, *, chat_id: int | None = None, chat_type: str = "group",
                **content) -> dict:
        """A message dict from ``user_id`` with ``content`` (text=…, photo=[…], …), in their
        private chat or, with ``chat_id``, in a group of ``chat_type`` (group, supergroup)."""
        chat = (self.private_chat(user_id) if chat_id is None
                else self.group_chat(chat_id, chat_type))
        message = {
            "message_id": next(self._message_ids),
            "date": int(self.clock().timestamp()),
            "chat": chat,
            "from": self.user(user_id),
            **content,
        }
        for field_name, entities_name in (("text", "entities"), ("caption", "caption_entities")):
            if isinstance(content.get(field_name), str) and entities_name not in content:
                found = entities(content[field_name])
                if found:
                    message[entities_name] = found
        return message

    async def queue(self, update: dict) -> int:
        """Queue an update (its ``update_id`` is filled in) and return its id."""
        update = {"update_id": next(self._update_ids), **update}
        async with self._changed:
            self._pending.append(update)
            self._changed.notify_all()
        return update["update_id"]

    async def send_text(self, user_id: int, text: str, **kwargs) -> int:
        """A person types ``text`` in their private chat with the bot."""
        return await self.queue({"message": self.message(user_id, text=text, **kwargs)})

    async def press(self, user_id: int, data: str, *, message: dict | None = None) -> int:
        """A person presses a button with callback ``data`` under ``message``."""
        if message is None:
            message = self.message(user_id, text="?")
            message["from"] = BOT_USER
            message["reply_markup"] = {
                "inline_keyboard": [[{"text": "?", "callback_data": data}]]
            }
        query = {
            "id": str(next(self._query_ids)),
            "from": self.user(user_id),
            "message": message,
            "chat_instance": f"ci{user_id}",
            "data": data,
        }
        return await self.queue({"callback_query": query})

    async def press_button(self, user_id: int, label: str) -> int:
        """Press the button containing ``label`` on the latest keyboard sent to the person."""
        for call in reversed(self.sent(user_id)):
            for button in call.buttons:
                if label.casefold() in button["text"].casefold():
                    return await self.press(user_id, button["callback_data"],
                                            message=call.result)
            if call.buttons:
                break
        raise AssertionError(f"no button {label!r} on the latest keyboard sent to {user_id}")

    def _update(self, update_id: int) -> dict:
        for update in [*self._pending, *self._delivered.values()]:
            if update["update_id"] == update_id:
                return update
        raise AssertionError(f"no update {update_id}")

    async def edit_text(self, update_id: int, text: str) -> int:
        """The person edits the message of update ``update_id`` to ``text``."""
        original = self._update(update_id)["message"]
        edited = {k: v for k, v in original.items() if k != "entities"}
        edited.update(text=text, edit_date=int(self.clock().timestamp()))
        if entities(text):
            edited["entities"] = entities(text)
        return await self.queue({"edited_message": edited})

    async def post_in_channel(self, chat_id: int, text: str) -> int:
        """A post in a channel the bot is an administrator of."""
        return await self.queue({"channel_post": {
            "message_id": next(self._message_ids), "date": int(self.clock().timestamp()),
            "chat": {"id": chat_id, "type": "channel", "title": "Kênh"}, "text": text}})

    async def member_update(self, user_id: int, old: str, new: str, *,
                            chat: dict | None = None) -> int:
        """``my_chat_member``: ``user_id`` changed the bot's status in ``chat`` (their private
        chat by default) from ``old`` to ``new`` ("member", "kicked", "left")."""

        def member(status: str) -> dict:
            found = {"user": BOT_USER, "status": status}
            if status == "kicked":
                found["until_date"] = 0
            return found

        return await self.queue({"my_chat_member": {
            "chat": chat or self.private_chat(user_id), "from": self.user(user_id),
            "date": int(self.clock().timestamp()),
            "old_chat_member": member(old), "new_chat_member": member(new)}})

    async def block(self, user_id: int) -> int:
        """The person blocks the bot ("For private chats, this update is received only when
        the bot is blocked or unblocked by the user", Update.my_chat_member)."""
        return await self.member_update(user_id, "member", "kicked")

    async def unblock(self, user_id: int) -> int:
        return await self.member_update(user_id, "kicked", "member")

    async def add_to_group(self, user_id: int, chat_id: int, chat_type: str = "group") -> int:
        """``user_id`` adds the bot to a group (or a supergroup, a channel)."""
        return await self.member_update(user_id, "left", "member",
                                        chat=self.group_chat(chat_id, chat_type))

    async def redeliver(self, update_id: int) -> None:
        """Deliver an already delivered update again, as Telegram does after a lost offset."""
        async with self._changed:
            self._again.append(self._delivered[update_id])
            self._changed.notify_all()

    @property
    def unconfirmed(self) -> list[dict]:
        """The updates Telegram still holds: not yet confirmed by a getUpdates offset."""
        return list(self._pending)

    async def confirm(self, update_id: int) -> None:
        """Forget the updates up to ``update_id``, as a getUpdates with a higher offset makes
        Telegram do (a bot that confirmed them and then died)."""
        async with self._changed:
            self._pending = [u for u in self._pending if u["update_id"] > update_id]
            self._changed.notify_all()

    @staticmethod
    def error(call: Call, status: int, description: str, retry_after: float | None = None
              ) -> web.Response:
        """Answer ``call`` with a Bot API error (for ``intercept``)."""
        call.error = status
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return web.json_response(body, status=status)

    def fail(self, method: str, status: int, description: str, *,
             retry_after: float | None = None, times: int = 1, skip: int = 0) -> None:
        """Answer ``times`` calls of ``method`` with a Bot API error, after ``skip`` good ones."""
        self._failures[method].append(Failure(status, description, retry_after, times, skip))

    async def wait_fetched(self) -> None:
        """Wait until the bot has fetched every queued update and asked for more.

        python-telegram-bot puts fetched updates into ``Application.update_queue`` before it
        polls again, so after this, joining that queue waits for the bot to finish them.
        """

        def fetched() -> bool:
            return (not self._pending and not self._again
                    and self._polled_after == self._deliveries)

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(fetched), 2.0)

    # ---- what a test reads ----------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def sent(self, chat_id: int | str | None = None, since: int = 0) -> list[Call]:
        """Messages, photos and documents the bot sent (to ``chat_id``), from call ``since``."""
        kinds = ("sendMessage", "sendPhoto", "sendDocument")
        return [c for c in self.calls[since:] if c.method in kinds and c.error is None
                and (chat_id is None or str(c.chat_id) == str(chat_id))]

    # ---- the server -----------------------------------------------------------------------

    async def _params(self, request: web.Request) -> tuple[dict, dict]:
        """The request's parameters from the query string and a JSON, form or multipart body."""
        params: dict[str, Any] = {k: _parse_value(k, v) for k, v in request.query.items()}
        files: dict[str, tuple[str, bytes]] = {}
        ctype = request.content_type
        if ctype == "application/json":
            body = await request.read()
            if body:
                params.update(json.loads(body))
        elif ctype == "multipart/form-data":
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if part.filename is not None:
                    files[part.name] = (part.filename, bytes(await part.read()))
                else:
                    params[part.name] = _parse_value(part.name, await part.text())
        elif ctype == "application/x-www-form-urlencoded":
            for name, value in (await request.post()).items():
                params[name] = _parse_value(name, value)
        return params, files

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params, files = await self._params(request)
        call = Call(method, params, files)
        self.calls.append(call)  # at once: a long poll is visible while it waits
        try:
            token = request.match_info["token"]
            if self.token is not None and token != self.token:
                if re.fullmatch(r"\d+:[\w-]+", token):
                    return self.error(call, 401, "Unauthorized")
                return self.error(call, 404, "Not Found")
            return await self._answer(call)
        finally:
            async with self._changed:
                self._changed.notify_all()

    async def _answer(self, call: Call) -> web.Response:
        if self.intercept is not None:
            response = self.intercept(call)
            if asyncio.iscoroutine(response):
                response = await response
            if response is not None:
                return response
        failures = self._failures.get(call.method)
        if failures and failures[0].skip > 0:
            failures[0].skip -= 1
        elif failures:
            failure = failures[0]
            failure.times -= 1
            if failure.times <= 0:
                failures.pop(0)
            call.error = failure.status
            body: dict[str, Any] = {"ok": False, "error_code": failure.status,
                                    "description": failure.description}
            if failure.retry_after is not None:
                body["parameters"] = {"retry_after": failure.retry_after}
            return web.json_response(body, status=failure.status)
        refused = self._refused(call)
        if refused is not None:
            return self.error(call, 400, refused)
        if call.method == "getUpdates":
            call.result = await self._get_updates(call.params)
        else:
            answer = getattr(self, f"_m_{call.method}", None)
            if answer is None:
                call.error = 404
                return web.json_response(
                    {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
                )
            call.result = answer(call.params, call.files)
        return web.json_response({"ok": True, "result": call.result})

    @staticmethod
    def _refused(call: Call) -> str | None:
        """Telegram's 400 description for a message beyond the documented limits, or None."""
        params = call.params
        if call.method == "sendMessage":
            text = str(params.get("text") or "")
            if not text.strip():
                return "Bad Request: message text is empty"
            if units(text) > TEXT_LIMIT:
                return "Bad Request: message is too long"
        if call.method in ("sendPhoto", "sendDocument") and units(
                str(params.get("caption") or "")) > CAPTION_LIMIT:
            return "Bad Request: message caption is too long"
        if any(len(str(b.get("callback_data", "")).encode()) > CALLBACK_DATA_LIMIT
               for b in call.buttons):
            return "Bad Request: BUTTON_DATA_INVALID"
        return None

    def _allowed(self, update: dict) -> bool:
        kind = next(k for k in update if k != "update_id")
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in NOT_BY_DEFAULT

    async def _get_updates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        if "allowed_updates" in params:
            self.allowed_updates = list(params["allowed_updates"] or [])

        def ready() -> list[dict]:
            for update in [u for u in self._pending if not self._allowed(u)]:
                self._pending.remove(update)
                self.dropped.append(update)
            fresh = [u for u in self._pending if u["update_id"] >= offset]
            return (self._again + fresh)[:limit]

        async with self._changed:
            self._polled_after = self._deliveries
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
            self._changed.notify_all()
            if not ready() and timeout > 0 and not self._closing:
                try:
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: bool(ready()) or self._closing), timeout
                    )
                except TimeoutError:
                    pass
            updates = ready()
            del self._again[:min(len(self._again), len(updates))]
            for update in updates:
                self._delivered[update["update_id"]] = update
            if updates:
                self._deliveries += 1
            return updates

    # ---- the methods ----------------------------------------------------------------------

    def _m_getMe(self, params: dict, files: dict) -> dict:
        return BOT_USER

    def _m_deleteWebhook(self, params: dict, files: dict) -> bool:
        return True

    def _m_close(self, params: dict, files: dict) -> bool:
        return True

    def _m_logOut(self, params: dict, files: dict) -> bool:
        return True

    def _m_setMyCommands(self, params: dict, files: dict) -> bool:
        self.commands = list(params.get("commands") or [])
        return True

    def _m_getMyCommands(self, params: dict, files: dict) -> list[dict]:
        return self.commands

    def _m_answerCallbackQuery(self, params: dict, files: dict) -> bool:
        return True

    def _m_leaveChat(self, params: dict, files: dict) -> bool:
        self.left.append(params.get("chat_id"))
        return True

    def _bot_message(self, params: dict, **content) -> dict:
        chat_id = params.get("chat_id")
        message = {
            "message_id": next(self._message_ids),
            "date": int(self.clock().timestamp()),
            "chat": {"id": chat_id, "type": "private" if int(chat_id) > 0 else "group"},
            "from": BOT_USER,
            **content,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    def _m_sendMessage(self, params: dict, files: dict) -> dict:
        return self._bot_message(params, text=params.get("text", ""))

    def _caption(self, params: dict) -> dict:
        return {"caption": params["caption"]} if params.get("caption") else {}

    def _m_sendPhoto(self, params: dict, files: dict) -> dict:
        n = next(self._message_ids)
        photo = [{"file_id": f"photo{n}", "file_unique_id": f"up{n}", "width": 1, "height": 1,
                  "file_size": len(files.get("photo", ("", b""))[1])}]
        return self._bot_message(params, photo=photo, **self._caption(params))

    def _m_sendDocument(self, params: dict, files: dict) -> dict:
        n = next(self._message_ids)
        name, content = files.get("document", ("document", b""))
        document = {"file_id": f"doc{n}", "file_unique_id": f"ud{n}", "file_name": name,
                    "file_size": len(content)}
        return self._bot_message(params, document=document, **self._caption(params))

    def _m_editMessageReplyMarkup(self, params: dict, files: dict) -> dict | bool:
        if "inline_message_id" in params:
            return True
        message = self._bot_message(params, text="…")
        message["message_id"] = params.get("message_id")
        return message


# ---- on its own, for trying the real process by hand -------------------------------------------

_HELP = """Lines on stdin, each one update:
  <user> <text>                  the person <user> (a number) writes in their private chat
  press <user> <label>           they press the button with <label> on their latest keyboard
  edit <update id> <text>        they edit the message of that update
  group <chat> <user> <text>     <user> writes in the group <chat> (a negative number)
  add <chat> <user>              <user> adds the bot to the group <chat>
  block <user> | unblock <user>  the person blocks or unblocks the bot
Every call the bot makes is printed."""


async def _serve(port: int, token: str | None) -> None:
    # Update ids go on from one run to the next, as Telegram's do: the bot's database
    # remembers the ids it has processed (a redelivered update changes nothing).
    api = FakeBotApi(token=token, first_update_id=int(time.time()))
    shown = 0

    def show(call: Call) -> None:
        if call.method == "getUpdates" and not call.result and call.error is None:
            return
        what = call.text or ", ".join(f"{k}={v}" for k, v in call.params.items()
                                      if k not in ("reply_markup", "commands"))
        buttons = " ".join(f"[{b['text']}]" for b in call.buttons)
        status = f" -> {call.error}" if call.error else ""
        print(f"<< {call.method}{status} {what} {buttons}".rstrip(), flush=True)

    async def printer() -> None:
        nonlocal shown
        while True:
            await asyncio.sleep(0.1)
            while shown < len(api.calls) and (api.calls[shown].result is not None
                                              or api.calls[shown].error is not None):
                show(api.calls[shown])
                shown += 1

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/bot{token}/{method}", api._handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(f"fake Bot API on http://127.0.0.1:{port}/bot (token: {token or 'any'})\n{_HELP}",
          flush=True)
    task = asyncio.create_task(printer())
    loop = asyncio.get_running_loop()
    try:
        while line := (await loop.run_in_executor(None, sys.stdin.readline)):
            words = line.split()
            if not words:
                continue
            try:
                if words[0] == "press":
                    await api.press_button(int(words[1]), " ".join(words[2:]))
                elif words[0] == "edit":
                    await api.edit_text(int(words[1]), " ".join(words[2:]))
                elif words[0] == "group":
                    await api.send_text(int(words[2]), " ".join(words[3:]),
                                        chat_id=int(words[1]))
                elif words[0] == "add":
                    await api.add_to_group(int(words[2]), int(words[1]))
                elif words[0] in ("block", "unblock"):
                    await getattr(api, words[0])(int(words[1]))
                else:
                    update_id = await api.send_text(int(words[0]), " ".join(words[1:]))
                    print(f">> update {update_id}", flush=True)
            except (ValueError, IndexError, AssertionError) as exc:
                print(f"?? {exc}", flush=True)
        await asyncio.sleep(1)
    finally:
        task.cancel()
        await api.close()
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    """``python -m tests.fake_bot_api``: the fake on a fixed port, driven from stdin."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=_HELP,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", help="the only token accepted (default: any)")
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.port, args.token))


if __name__ == "__main__":
    main()
