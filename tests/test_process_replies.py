"""``python -m bot`` itself, as an operator runs it, against the fake Bot API and the fake Zalo
server (issue 12): a reply lost on its way (a 502) and the answer retyped (item 3), and a hard
kill between the fetch of a Telegram update and the commit of its processing (item 5).

Slower than the rest (each start of the process imports everything), so each test tells a
whole story.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web

from storage import people
from storage.db import Database
from tests.conftest import SETUP, build_world
from tests.fake_bot_api import FakeBotApi
from tests.fake_zalo_api import DEFAULT_TOKEN as ZALO_TOKEN
from tests.fake_zalo_api import FakeZaloApi, text_event

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:FAKE-token-never-logged"
SECRET = "secret-for-the-process"
UNDELIVERED = "Xin lỗi, câu hỏi trước chưa tới được bạn:"
QUESTION = re.compile(r"\(\d+/10\) ")  # the monthly form asks «(2/10) Số hộ nghèo …»
TELEGRAM_USER, ZALO_USER = 7050, "z7050"
pytestmark = [
    pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning"),
]


async def until(what: str, predicate: Callable[[], object], timeout: float = 30):  # noqa: ASYNC109
    """Wait until ``predicate()`` is true and return it (the process works on its own)."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        await asyncio.sleep(0.02)
    return value


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BotProcess:
    """``python -m bot`` on a database of its own, talking to the fakes given."""

    def __init__(self, tmp_path: Path, *, telegram: FakeBotApi | None = None,
                 zalo: FakeZaloApi | None = None):
        self.db_path = tmp_path / "bot.sqlite3"
        self.log = tmp_path / "bot.log"
        config = ["[stats]", "chart_workers = 0"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIAMNGHEO_")}
        if telegram is not None:
            config += ["[telegram]", f'base_url = "{telegram.base_url}"',
                       f'base_file_url = "{telegram.base_file_url}"', "poll_timeout = 1"]
            env["GIAMNGHEO_TELEGRAM_TOKEN"] = TOKEN
        if zalo is not None:
            port = free_port()
            config += ["[zalo]", f'base_url = "{zalo.base_url}"', 'mode = "webhook"',
                       'listen_host = "127.0.0.1"', f"listen_port = {port}"]
            env.update(GIAMNGHEO_ZALO_TOKEN=ZALO_TOKEN, GIAMNGHEO_ZALO_SECRET=SECRET,
                       GIAMNGHEO_ZALO_PUBLIC_URL=f"http://127.0.0.1:{port}")
        (tmp_path / "config.toml").write_text("\n".join(config) + "\n", encoding="utf-8")
        env.update(GIAMNGHEO_CONFIG=str(tmp_path / "config.toml"),
                   GIAMNGHEO_DB=str(self.db_path))
        self.env = env
        self.telegram, self.zalo = telegram, zalo
        self.process: asyncio.subprocess.Process | None = None

    async def seed(self) -> int:
        """The test province; its first village head chats on Telegram and on Zalo. Returns
        the head's village id."""
        now = datetime.now(UTC)
        database = await Database.open(self.db_path)
        try:
            world = await build_world(database, now)
            async with database.write() as conn:
                for channel, user in (("telegram", str(TELEGRAM_USER)), ("zalo", ZALO_USER)):
                    await people.link_identity(conn, world.head_id, channel=channel,
                                               external_id=user, chat_id=user,
                                               display_name="", actor=SETUP, at=now)
        finally:
            await database.close()
        return world.village.id

    async def start(self) -> None:
        """Start the process and wait until it listens (it polls Telegram; Zalo's webhook
        is registered)."""
        polls = len(self.telegram.calls_to("getUpdates")) if self.telegram else 0
        hooks = len(self.zalo.calls_to("setWebhook")) if self.zalo else 0
        with self.log.open("a", encoding="utf-8") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", cwd=ROOT, env=self.env,
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log)

        def listening() -> bool:
            if self.process.returncode is not None:
                raise AssertionError(f"the bot ended ({self.process.returncode}):\n"
                                     + self.log.read_text(encoding="utf-8"))
            return ((self.telegram is None
                     or len(self.telegram.calls_to("getUpdates")) > polls)
                    and (self.zalo is None or len(self.zalo.calls_to("setWebhook")) > hooks))

        await until("the bot to start", listening, 60)

    async def kill(self) -> None:
        """A hard kill (``kill -9``, a power cut for the process)."""
        self.process.kill()
        await self.process.wait()

    async def stop(self) -> int:
        """SIGTERM, as systemd stops it; the exit status."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 30)

    async def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        """Read the bot's database (WAL: while it runs, too)."""
        database = await Database.open(self.db_path)
        try:
            async with database.read() as conn:
                async with conn.execute(sql, args) as cursor:
                    return [tuple(r) for r in await cursor.fetchall()]
        finally:
            await database.close()

    async def draft(self, channel: str, user: str) -> dict:
        rows = await self.query("SELECT draft FROM dialogs WHERE channel = ? AND sender_id = ?",
                                (channel, user))
        return json.loads(rows[0][0]) if rows else {}


@pytest.fixture
async def telegram():
    async with FakeBotApi() as api:
        yield api


@pytest.fixture
async def zalo():
    async with FakeZaloApi() as api:
        yield api


# ---- a reply lost on its way (item 3) ---------------------------------------------------------


class Head:
    """The village head, typing on one messenger to the process."""

    def __init__(self, channel: str, telegram: FakeBotApi, zalo: FakeZaloApi):
        self.channel = channel
        self.api = telegram if channel == "telegram" else zalo

    def _tries(self, since: int) -> list[tuple[str, bool]]:
        """(text, arrived) of each finished try at a message to the head since call ``since``."""
        if self.channel == "telegram":
            return [(c.text, c.error is None) for c in self.api.calls[since:]
                    if c.method == "sendMessage" and str(c.chat_id) == str(TELEGRAM_USER)
                    and (c.result is not None or c.error is not None)]
        return [(c.text, c.ok) for c in self.api.calls[since:]
                if c.method == "sendMessage" and c.chat_id == ZALO_USER and c.done]

    def fail_replies(self, times: int) -> None:
        """The messenger answers the next ``times`` sends with 502 Bad Gateway."""
        if self.channel == "telegram":
            self.api.fail("sendMessage", 502, "Bad Gateway", times=times)
        else:
            self.api.fail("sendMessage", error_code=502, description="Bad Gateway",
                          times=times)

    async def send(self, text: str, *, refused: int = 0) -> str:
        """Type ``text``; wait until a question of the form («(n/10) …») arrives, or until
        ``refused`` tries were refused, and return the texts that arrived, joined."""
        mark = len(self.api.calls)
        if self.channel == "telegram":
            await self.api.send_text(TELEGRAM_USER, text)
        else:
            status, _ = await self.api.post_webhook(text_event(
                text, user_id=ZALO_USER, display_name="Lò Văn Páo"))
            assert status == 200

        def done() -> bool:
            tries = self._tries(mark)
            if refused:
                return sum(not arrived for _, arrived in tries) >= refused
            return any(arrived and QUESTION.search(sent) for sent, arrived in tries)

        await until(f"the reply to {text!r}", done)
        return "\n".join(sent for sent, arrived in self._tries(mark) if arrived)


@pytest.mark.parametrize("channel", ["telegram", "zalo"])
async def test_a_reply_lost_to_a_502_does_not_shift_the_form(tmp_path, telegram, zalo,
                                                             channel):
    """The issue's case, through the process: «261» answered, its reply («(2/10)») refused
    with 502 at every try; «261» typed again must not become the number of poor households.
    A reply refused once is sent again and arrives once."""
    bot = BotProcess(tmp_path, **{channel: telegram if channel == "telegram" else zalo})
    head = Head(channel, telegram, zalo)
    user = str(TELEGRAM_USER) if channel == "telegram" else ZALO_USER
    await bot.seed()
    await bot.start()
    try:
        assert "(1/10) Tổng số hộ" in await head.send("/baocao")
        head.fail_replies(3)  # the first try and both retries (transient_retries = 2)
        assert await head.send("261", refused=3) == ""
        reply = await head.send("261")  # retyped: the person never saw «(2/10)»
        assert reply.startswith(UNDELIVERED) and "(2/10) Số hộ nghèo" in reply
        head.fail_replies(1)
        reply = await head.send("15")  # refused once, sent again
        assert reply.count("(3/10)") == 1
        assert "(4/10)" in await head.send("8")
    finally:
        assert await bot.stop() == 0
    values = (await bot.draft(channel, user))["values"]
    assert values["total"] == 261 and values["poor"] == 15 and values["near_poor"] == 8


# ---- a hard kill between fetch and commit (item 5) ---------------------------------------------


@pytest.mark.parametrize("confirmed", [True, False], ids=["confirmed", "not confirmed"])
async def test_an_update_fetched_before_a_hard_kill_is_processed_once_after_the_restart(
        tmp_path, telegram, confirmed):
    """python-telegram-bot confirms an update to Telegram (its next getUpdates, with a higher
    offset) while the update is still being processed. The head presses «Gửi» under the
    report's summary; the process fetches the press and is killed (-9) before the report is
    saved, after the confirmation (Telegram will not send the press again) or before it
    (Telegram sends it again). After the restart the report is saved once, and the head
    hears it once."""
    bot = BotProcess(tmp_path, telegram=telegram)
    village = await bot.seed()
    await bot.start()
    mark = len(telegram.calls)
    await telegram.send_text(TELEGRAM_USER, "/baocao 120 15 8 2 1 0 3 10 5tr")
    await until("the summary", lambda: any(
        "Gửi" in b["text"] for c in telegram.sent(TELEGRAM_USER, since=mark) for b in c.buttons))

    # The press is processed up to its answerCallbackQuery, which hangs: the report is not
    # saved yet when the process dies. Not confirmed: the next getUpdates hangs before
    # Telegram has taken its offset.
    release, held = asyncio.Event(), set()

    async def hang(call):
        if call.method == "answerCallbackQuery" or (
                not confirmed and call.method == "getUpdates"
                and int(call.params.get("offset") or 0) > press):
            held.add(call.method)
            await release.wait()
            return web.json_response({"ok": False, "error_code": 502,
                                      "description": "Bad Gateway"}, status=502)
        return None

    telegram.intercept = hang
    press = await telegram.press_button(TELEGRAM_USER, "Gửi")
    await until("the press fetched, its processing under way", lambda: any(
        int(c.params.get("offset") or 0) > press for c in telegram.calls_to("getUpdates"))
        and "answerCallbackQuery" in held)
    await bot.kill()
    telegram.intercept = None
    release.set()
    saved = ("SELECT v.version FROM reports r JOIN report_versions v ON v.report_id = r.id"
             " WHERE r.area_id = ?")
    assert await bot.query(saved, (village,)) == []  # killed before the commit
    assert [u["update_id"] for u in telegram.unconfirmed] == ([] if confirmed else [press])

    mark = len(telegram.calls)
    await bot.start()
    try:
        await telegram.send_text(TELEGRAM_USER, "/toi")  # after what the restart processes
        await until("the answer to /toi", lambda: any(
            "Lò Văn Páo" in c.text for c in telegram.sent(TELEGRAM_USER, since=mark)))
    finally:
        assert await bot.stop() == 0
    replies = [c.text for c in telegram.sent(TELEGRAM_USER, since=mark)]
    assert sum("Đã lưu báo cáo tháng" in r and "(phiên bản 1)" in r for r in replies) == 1
    assert not any("phiên bản 2" in r or "đã cũ" in r for r in replies), replies
    pressed = [c.params["callback_query_id"] for c in telegram.calls_to("answerCallbackQuery")]
    assert len(pressed) == 2 and pressed[0] == pressed[1]  # its spinner stops, after the start
    assert await bot.query(saved, (village,)) == [(1,)]
    assert await bot.query("SELECT count(*) FROM inbox") == [(0,)]
