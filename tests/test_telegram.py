"""The Telegram adapter, through python-telegram-bot's real stack against a fake Bot API server.

Nothing here touches the internet: ``tests/fake_bot_api.py`` listens on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from telegram import Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.channels import telegram as tg
from common.catalogue import MESSAGES
from common.config import replace
from common.delivery import (
    DeliveryError,
    Misconfigured,
    RecipientBlocked,
    Throttled,
    Transient,
)
from common.messages import Inbound, Option, Outbound
from handlers.router import match
from storage import invites, people
from storage.reports import MONTHLY_FORM, current_report
from tests.conftest import SETUP
from tests.fake_bot_api import BOT_USER, FakeBotApi
from tests.fake_zalo_api import DEFAULT_TOKEN as ZALO_TOKEN
from tests.fake_zalo_api import FakeZaloApi

TOKEN = "123456:FAKE-token-never-logged"
ROOT = Path(__file__).resolve().parent.parent
# PTB 22 itself warns, when it builds a RetryAfter, that retry_after will become a timedelta.
pytestmark = [
    pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:.*message_auto_delete_time.*:DeprecationWarning"),
]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
async def api(clock):
    async with FakeBotApi(clock) as server:
        yield server


@pytest.fixture
def tg_config(config, api):
    telegram = replace(config.telegram, token=TOKEN, base_url=api.base_url,
                       base_file_url=api.base_file_url, poll_timeout=1,
                       overall_max_rate=1000, concurrent_updates=8)
    return replace(config, telegram=telegram)


class Running:
    """The bot polling the fake server through ``run_polling``."""

    def __init__(self, api: FakeBotApi):
        self.api = api
        self.app = None

    async def settle(self) -> None:
        """Wait until every queued update is fetched and fully handled (replies sent)."""
        await self.api.wait_fetched()
        await asyncio.wait_for(self.app.update_queue.join(), 2)


async def start_polling(config, core, api, monkeypatch):
    """``run_polling`` in a task; returns the harness, the stop event and the task."""
    running = Running(api)
    build = tg.build_application

    def capture(cfg, c, *args):
        running.app = build(cfg, c, *args)
        return running.app

    monkeypatch.setattr(tg, "build_application", capture)
    stop = asyncio.Event()
    task = asyncio.create_task(tg.run_polling(config, core, stop))
    for _ in range(200):
        if api.calls_to("getUpdates") or task.done():
            break
        await asyncio.sleep(0.01)
    if task.done():
        task.result()
    return running, stop, task


@pytest.fixture
async def bot(tg_config, core, api, world, monkeypatch):
    running, stop, task = await start_polling(tg_config, core, api, monkeypatch)
    yield running
    stop.set()
    await asyncio.wait_for(task, 5)


class Person:
    """Someone chatting with the bot on Telegram; reads like a conversation."""

    def __init__(self, bot: Running, user_id: int):
        self.bot = bot
        self.api = bot.api
        self.user_id = user_id

    async def _after(self, inject) -> str:
        mark = len(self.api.calls)
        await inject
        await self.bot.settle()
        return "\n".join(c.text for c in self.api.sent(self.user_id, since=mark))

    async def send(self, text: str) -> str:
        return await self._after(self.api.send_text(self.user_id, text))

    async def press(self, label: str) -> str:
        return await self._after(self.api.press_button(self.user_id, label))

    async def press_data(self, data: str) -> str:
        return await self._after(self.api.press(self.user_id, data))

    def buttons(self) -> list[str]:
        sent = [c for c in self.api.sent(self.user_id) if c.buttons]
        return [b["text"] for b in sent[-1].buttons] if sent else []


async def link_head(db, clock, area, user_id: int) -> int:
    """A village head of ``area`` who chats from Telegram user ``user_id``."""
    async with db.write() as conn:
        pid = await people.create_person(conn, f"Trưởng thôn {user_id}", actor=SETUP, at=clock())
        await people.link_identity(conn, pid, channel="telegram", external_id=str(user_id),
                                   chat_id=str(user_id), display_name="", actor=SETUP,
                                   at=clock())
        await people.grant_role(conn, pid, "village_head", area, actor=SETUP, at=clock())
    return pid


async def saved(db, area, period="2026-10"):
    async with db.read() as conn:
        return await current_report(conn, area.id, MONTHLY_FORM, period)


# ---- end to end, in polling mode --------------------------------------------------------------


async def test_stranger_enrols_and_files_the_monthly_report(bot, api, db, world, clock):
    person = Person(bot, 7001)
    reply = await person.send("xin chào")
    assert "chưa được đăng ký" in reply and "mã mời" in reply
    async with db.write() as conn:
        await invites.create_invite(conn, code="ABCD2345", role="village_head",
                                    area_id=world.village.id, full_name="Lò Thị Mai",
                                    expires_at=clock() + timedelta(days=14), actor=SETUP,
                                    at=clock())
    reply = await person.send("/start ABCD-2345")
    assert "Chào mừng Lò Thị Mai" in reply
    assert any("Báo cáo tháng" in b for b in person.buttons())

    reply = await person.press("Báo cáo tháng")
    assert "tháng 10/2026" in reply and "(1/10) Tổng số hộ" in reply
    pressed = api.calls_to("answerCallbackQuery")
    assert len(pressed) == 1
    edit = api.calls_to("editMessageReplyMarkup")[-1]
    assert edit.chat_id == 7001 and "reply_markup" not in edit.params  # keyboard removed

    for text, expected in (("120", "(2/10)"), ("15", "(3/10)"), ("8", "(4/10)")):
        assert expected in await person.send(text)
    assert "(5/10)" in await person.press("0 (không có)")
    for text in ("1", "0", "3", "10"):
        await person.send(text)
    assert "(10/10) Ghi chú" in await person.send("5tr")
    reply = await person.press("Bỏ qua")
    assert "1. Tổng số hộ: 120" in reply and "9. Vận động hỗ trợ trong tháng: 5.000.000đ" in reply
    assert await saved(db, world.village) is None
    reply = await person.press("Gửi")
    assert "Đã lưu báo cáo tháng 10/2026 của Bản Nà Khan (phiên bản 1)" in reply

    report = await saved(db, world.village)
    assert report.data["total"] == 120 and report.data["support_vnd"] == 5_000_000
    assert report.submitted_via == "telegram" and report.submitted_by_name == "Lò Thị Mai"


async def test_command_menu_is_published_in_vietnamese(bot, api):
    assert api.commands == [
        {"command": "baocao", "description": "Gửi báo cáo tháng"},
        {"command": "baocao6thang", "description": "Gửi báo cáo sơ kết 6 tháng"},
        {"command": "baocaonam", "description": "Gửi báo cáo tổng kết năm"},
        {"command": "lich", "description": "Lịch báo cáo, việc đến hạn"},
        {"command": "thongbao", "description": "Gửi thông báo tới địa bàn (cán bộ)"},
        {"command": "thongke", "description": "Thống kê, biểu đồ, Excel (cán bộ)"},
        {"command": "huy", "description": "Hủy việc đang làm"},
        {"command": "toi", "description": "Xem vai trò của tôi"},
        {"command": "lienket", "description": "Liên kết với Zalo hoặc tài khoản khác"},
        {"command": "help", "description": "Hướng dẫn"},
    ]
    for name, description in tg.bot_commands():
        assert match(f"/{name}").name != "unknown", name  # every menu entry works
        assert description == MESSAGES[f"telegram.command.{name}"]


async def test_redelivered_update_changes_nothing(bot, api, db, world, clock):
    await link_head(db, clock, world.village, 7002)
    person = Person(bot, 7002)
    await person.send("/baocao")
    mark = len(api.calls)
    update_id = await api.send_text(7002, "120")
    await bot.settle()
    assert "(2/10)" in api.sent(7002, since=mark)[-1].text
    mark = len(api.calls)
    await api.redeliver(update_id)
    await bot.settle()
    assert api.calls_to("getUpdates")[-1].params["offset"] == update_id + 1  # it was fetched
    assert api.sent(7002, since=mark) == []
    assert "(3/10)" in await person.send("15")  # the dialog moved on by one step only


async def test_two_chats_concurrently_each_in_order(bot, api, db, world, clock):
    await link_head(db, clock, world.village, 7003)
    await link_head(db, clock, world.village2, 7004)
    for text in ("/baocao", "120", "15", "8"):  # both chats' updates in one batch
        await api.send_text(7003, text)
        await api.send_text(7004, text)
    await bot.settle()
    for user in (7003, 7004):
        questions = [c.text for c in api.sent(user) if "/10)" in c.text]
        assert [q.split(")")[0] for q in questions] == ["(1/10", "(2/10", "(3/10", "(4/10"]
    assert bot.app.update_processor.busy_chats == 0


async def test_forged_button_is_stale(bot, api, db, world, clock):
    await link_head(db, clock, world.village, 7005)
    person = Person(bot, 7005)
    await person.send("/baocao")
    reply = await person.press_data("xx.area:999")
    assert "Nút này đã cũ" in reply and "(1/10)" in reply
    assert api.calls_to("answerCallbackQuery")


async def test_blocked_recipient_does_not_stop_the_bot(bot, api, db, world, clock, caplog):
    await link_head(db, clock, world.village, 7006)
    person = Person(bot, 7006)
    api.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
    with caplog.at_level(logging.WARNING, logger="bot.channels.telegram"):
        assert await person.send("/toi") == ""
    assert "RecipientBlocked" in caplog.text
    assert "Trưởng thôn 7006" in await person.send("/toi")


async def test_throttled_reply_waits_and_is_sent(bot, api, db, world, clock):
    await link_head(db, clock, world.village, 7007)
    person = Person(bot, 7007)
    api.fail("sendMessage", 429, "Too Many Requests: retry after 0.2", retry_after=0.2)
    assert "Trưởng thôn 7007" in await person.send("/toi")
    assert [c.error for c in api.calls_to("sendMessage")] == [429, None]


async def test_a_429_is_one_line_in_the_log_not_a_traceback(bot, api, db, world, clock, caplog):
    await link_head(db, clock, world.village, 7017)
    api.fail("sendMessage", 429, "Too Many Requests: retry after 0.1", retry_after=0.1)
    with caplog.at_level(logging.INFO):
        assert "Trưởng thôn 7017" in await Person(bot, 7017).send("/toi")
    assert not [r.getMessage() for r in caplog.records if r.exc_info]
    told = [r for r in caplog.records if r.name == tg.__name__ and "429" in r.getMessage()]
    assert len(told) == 1 and "retry after 0.1 s" in told[0].getMessage()


# ---- a reply that fails (issue 12, item 3) ------------------------------------------------------

UNDELIVERED = "Xin lỗi, câu hỏi trước chưa tới được bạn:"


@pytest.fixture
def quick_retries(monkeypatch):
    monkeypatch.setattr(tg, "REPLY_BACKOFF", 0.01)


async def test_a_reply_refused_with_502_is_sent_again(bot, api, db, world, clock, quick_retries):
    await link_head(db, clock, world.village, 7030)
    person = Person(bot, 7030)
    await person.send("/baocao")
    api.fail("sendMessage", 502, "Bad Gateway")
    assert "(2/10) Số hộ nghèo" in await person.send("261")
    assert [c.error for c in api.calls_to("sendMessage")][-2:] == [502, None]


async def test_a_reply_is_tried_a_bounded_number_of_times(bot, api, db, world, clock,
                                                          tg_config, quick_retries):
    await link_head(db, clock, world.village, 7031)
    person = Person(bot, 7031)
    await person.send("/toi")
    mark = len(api.calls)
    api.fail("sendMessage", 500, "Internal Server Error", times=10)
    assert await person.send("/toi") == ""
    tries = [c for c in api.calls[mark:] if c.method == "sendMessage"]
    assert tg_config.telegram.transient_retries == 2  # the default
    assert len(tries) == 1 + 2


async def test_an_answer_retyped_after_a_lost_question_is_not_taken_for_the_next_field(
        bot, api, db, world, clock, quick_retries):
    """The issue's case: «261» answered, its reply («(2/10) Số hộ nghèo») lost; the person
    types «261» again, which must not become the number of poor households."""
    await link_head(db, clock, world.village, 7032)
    person = Person(bot, 7032)
    await person.send("/baocao")
    api.fail("sendMessage", 502, "Bad Gateway", times=3)  # the first try and both retries
    assert await person.send("261") == ""
    reply = await person.send("261")
    assert reply.startswith(UNDELIVERED) and "(2/10) Số hộ nghèo" in reply
    assert "(3/10)" in await person.send("15")
    draft = (await dialog_of(db, 7032)).draft
    assert draft["values"]["total"] == 261 and draft["values"]["poor"] == 15


@pytest.fixture
async def impatient_bot(tg_config, core, api, world, monkeypatch, quick_retries):
    """The bot waiting 0.3 s for an answer to each call."""
    impatient = replace(tg_config, telegram=replace(tg_config.telegram, request_timeout=0.3))
    running, stop, task = await start_polling(impatient, core, api, monkeypatch)
    yield running
    stop.set()
    await asyncio.wait_for(task, 5)


async def test_a_reply_that_timed_out_is_not_sent_twice_but_its_question_is_asked_again(
        impatient_bot, api, db, world, clock):
    """After a time-out the message may have arrived: it is not sent again (it would come
    twice), and the next typed answer gets the question again."""
    await link_head(db, clock, world.village, 7033)
    person = Person(impatient_bot, 7033)
    await person.send("/baocao")
    mark = len(api.calls)

    async def hang(call):
        if call.method == "sendMessage":
            api.intercept = None
            await asyncio.sleep(2)  # longer than the bot waits for the answer
        return None

    api.intercept = hang
    await api.send_text(7033, "261")
    await api.wait_fetched()
    await asyncio.wait_for(impatient_bot.app.update_queue.join(), 5)
    assert len([c for c in api.calls[mark:] if c.method == "sendMessage"]) == 1
    reply = await person.send("261")
    assert reply.startswith(UNDELIVERED) and "(2/10)" in reply


# ---- store first: the inbox (issue 12, item 5) ------------------------------------------------


async def in_inbox(db) -> list[str]:
    from storage.inbox import waiting

    async with db.read() as conn:
        return [row[0] for row in await waiting(conn, "telegram")]


async def seen(db, update_id: int) -> bool:
    async with db.read() as conn:
        async with conn.execute("SELECT 1 FROM inbound_seen WHERE channel = 'telegram' AND"
                                " message_id = ?", (str(update_id),)) as cursor:
            return await cursor.fetchone() is not None


async def test_no_update_is_confirmed_before_it_is_stored(bot, core, api, db, world, clock,
                                                          monkeypatch):
    """PTB confirms an update with its next getUpdates, while the update is still being
    processed: by then it must be on disk."""
    await link_head(db, clock, world.village, 7040)
    await Person(bot, 7040).send("/baocao")
    checked, confirmed = [], asyncio.Event()
    handle = core.handle

    async def processing(inbound, **kwargs):
        await confirmed.wait()  # still being processed when the confirmation goes out
        return await handle(inbound, **kwargs)

    async def check(call):
        if call.method == "getUpdates" and int(call.params.get("offset") or 0) > update_id:
            if not checked:
                checked.append(str(update_id) in await in_inbox(db))
            confirmed.set()
        return None

    monkeypatch.setattr(core, "handle", processing)
    update_id = await api.send_text(7040, "261")
    api.intercept = check
    await bot.settle()
    assert checked == [True]
    assert await in_inbox(db) == [] and await seen(db, update_id)  # processed: removed
    assert "(2/10)" in api.sent(7040)[-1].text


async def store_as_before_a_crash(db, clock, api, update_id: int) -> None:
    from storage import inbox

    async with db.write() as conn:
        await inbox.store(conn, "telegram", [(str(update_id), "7041",
                                              json.dumps(api._update(update_id)))], clock())


@pytest.mark.parametrize("telegram_sends_it_again", [True, False])
async def test_updates_stored_before_a_crash_are_processed_once_at_start_up(
        tg_config, core, api, db, world, clock, monkeypatch, telegram_sends_it_again):
    """Stored, then the process died: before its next getUpdates (Telegram sends the update
    again) or after it (Telegram has forgotten it)."""
    await link_head(db, clock, world.village, 7041)
    running, stop, task = await start_polling(tg_config, core, api, monkeypatch)
    try:
        await Person(running, 7041).send("/baocao")
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
    update_id = await api.send_text(7041, "261")
    await store_as_before_a_crash(db, clock, api, update_id)
    if not telegram_sends_it_again:
        await api.confirm(update_id)
    mark = len(api.calls)
    running, stop, task = await start_polling(tg_config, core, api, monkeypatch)
    try:
        await running.settle()
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
    replies = [c.text for c in api.sent(7041, since=mark)]
    assert len(replies) == 1 and "(2/10) Số hộ nghèo" in replies[0]
    assert (await dialog_of(db, 7041)).draft["values"] == {"total": 261}
    assert await in_inbox(db) == []


async def test_updates_that_cannot_be_stored_are_fetched_again(
        bot, api, db, world, clock, monkeypatch, caplog):
    """The database locked longer than its busy timeout: the updates stay with Telegram (not
    confirmed) and are fetched again once they can be stored."""
    from storage import inbox

    await link_head(db, clock, world.village, 7042)
    await Person(bot, 7042).send("/toi")
    real, failures = inbox.store, []

    async def locked(*args, **kwargs):
        if not failures:
            failures.append(1)
            raise sqlite3.OperationalError("database is locked")
        return await real(*args, **kwargs)

    monkeypatch.setattr(inbox, "store", locked)
    mark = len(api.calls)
    with caplog.at_level(logging.WARNING):
        update_id = await api.send_text(7042, "/toi")
        for _ in range(300):
            if await seen(db, update_id) and api.sent(7042, since=mark):
                break
            await asyncio.sleep(0.01)
    fetched = [c for c in api.calls_to("getUpdates")
               if any(u["update_id"] == update_id for u in c.result or [])]
    assert len(fetched) == 2  # once refused, once stored
    assert len(api.sent(7042, since=mark)) == 1
    assert "could not be stored" in caplog.text and "database is locked" in caplog.text


@pytest.mark.parametrize("status, description, level", [
    (502, "Bad Gateway", logging.WARNING),
    (409, "Conflict: terminated by other getUpdates request; make sure that only one bot "
          "instance is running", logging.ERROR),
])
async def test_a_failing_poll_is_one_line_and_polling_goes_on(
        bot, api, db, world, clock, caplog, status, description, level):
    await link_head(db, clock, world.village, 7018)
    with caplog.at_level(logging.INFO):
        api.fail("getUpdates", status, description)
        for _ in range(300):  # the poll under way ends (poll_timeout 1 s), the next one fails
            if any(c.error for c in api.calls_to("getUpdates")):
                break
            await asyncio.sleep(0.01)
        assert "Trưởng thôn 7018" in await Person(bot, 7018).send("/toi")  # polling goes on
    assert not [r.getMessage() for r in caplog.records if r.exc_info]
    told = [r for r in caplog.records if r.name == tg.__name__ and (
        "getUpdates" in r.getMessage() or "polls" in r.getMessage())]
    assert len(told) == 1 and told[0].levelno == level


# ---- who is answered: private chats only ------------------------------------------------------


async def dialog_of(db, user_id: int):
    from storage.dialogs import load_dialog

    async with db.read() as conn:
        return await load_dialog(conn, "telegram", str(user_id))


async def test_a_group_gets_no_answer_only_a_note_when_the_bot_is_called(
        bot, api, db, world, clock, caplog):
    await link_head(db, clock, world.village, 7010)
    group = -1001234
    with caplog.at_level(logging.INFO, logger=tg.__name__):
        await api.send_text(7010, "Chào cả nhà, tháng này thôn có 120 hộ", chat_id=group,
                            chat_type="supergroup")
        await api.send_text(7010, "/start@some_other_bot", chat_id=group)
        await bot.settle()
        assert api.sent() == []  # plain talk in a group: nothing
        await api.send_text(7010, "/thongke", chat_id=group, chat_type="supergroup")
        await bot.settle()
    note, = api.sent()
    assert note.chat_id == group and "tin nhắn riêng" in note.text
    assert "https://t.me/giamngheo_test_bot" in note.text and not note.buttons
    assert await dialog_of(db, 7010) is None  # nothing was started
    assert "supergroup" in caplog.text

    await api.send_text(7010, "/baocao", chat_id=group, chat_type="supergroup")
    await api.send_text(7010, "@giamngheo_test_bot cho xem số liệu", chat_id=group,
                        chat_type="supergroup")
    await bot.settle()
    assert len(api.sent()) == 1  # one note per group for a while, not one per command
    await api.send_text(7011, "@giamngheo_test_bot báo cáo", chat_id=-1005, chat_type="group")
    await bot.settle()
    assert [c.chat_id for c in api.sent()] == [group, -1005]
    assert await dialog_of(db, 7010) is None and api.sent(7010) == []


async def test_the_bot_added_to_a_group_says_why_and_leaves_it(bot, api):
    await api.add_to_group(7012, -1007)
    await api.add_to_group(7012, -1008, chat_type="channel")
    await bot.settle()
    note, = api.sent()  # nothing is posted in a channel
    assert note.chat_id == -1007 and "tin nhắn riêng" in note.text and "rời nhóm" in note.text
    assert api.left == [-1007, -1008]


async def test_a_channel_post_gets_no_answer(bot, api):
    await api.post_in_channel(-1009, "/baocao")
    await bot.settle()
    assert api.sent() == []


async def blocked_at(db, user_id: int):
    async with db.read() as conn:
        async with conn.execute("SELECT blocked_at FROM identities WHERE channel = 'telegram'"
                                " AND external_id = ?", (str(user_id),)) as cursor:
            return (await cursor.fetchone())[0]


async def test_a_person_who_blocks_the_bot_is_marked_blocked_until_they_come_back(
        bot, api, db, world, clock):
    from storage.outbox import reachable_identities

    pid = await link_head(db, clock, world.village, 7013)
    await api.block(7013)
    await bot.settle()
    assert await blocked_at(db, 7013) is not None and api.sent() == []
    async with db.read() as conn:
        assert await reachable_identities(conn, pid) == []  # reminders go elsewhere
    await api.unblock(7013)
    await bot.settle()
    assert await blocked_at(db, 7013) is None
    await api.block(7013)
    await bot.settle()
    assert await blocked_at(db, 7013) is not None
    assert "Trưởng thôn 7013" in await Person(bot, 7013).send("/toi")  # writing again
    assert await blocked_at(db, 7013) is None


# ---- edits, service messages, buttons ---------------------------------------------------------


async def test_an_edited_answer_is_not_taken_and_the_person_is_told_once(
        bot, api, db, world, clock):
    await link_head(db, clock, world.village, 7014)
    person = Person(bot, 7014)
    await person.send("/baocao")
    mark = len(api.calls)
    answer = await api.send_text(7014, "120")
    await bot.settle()
    assert "(2/10)" in api.sent(7014, since=mark)[-1].text
    before = await dialog_of(db, 7014)

    reply = await person._after(api.edit_text(answer, "125"))
    assert "không đọc tin nhắn đã sửa" in reply and "(3/10)" not in reply
    assert await dialog_of(db, 7014) == before  # neither a new answer nor a change
    assert await person._after(api.edit_text(answer, "126")) == ""  # told once a message
    assert "(3/10)" in await person.send("15")


async def test_an_edit_without_text_gets_no_note(bot, api, db, world, clock):
    update_id = await api.queue({"message": api.message(7015, location={
        "latitude": 22.3, "longitude": 102.8, "live_period": 900})})
    await bot.settle()
    mark = len(api.calls)
    live = {**api._update(update_id)["message"], "edit_date": 1,
            "location": {"latitude": 22.31, "longitude": 102.8, "live_period": 900}}
    await api.queue({"edited_message": live})  # a live location moves
    await bot.settle()
    assert api.sent(7015, since=mark) == []


async def test_a_service_message_in_the_private_chat_gets_no_answer(bot, api, db, world, clock):
    await link_head(db, clock, world.village, 7016)
    await api.queue({"message": api.message(7016, pinned_message={
        **api.message(7016, text="120"), "from": BOT_USER})})
    await bot.settle()
    assert api.sent(7016) == []


async def test_every_button_press_is_answered_even_when_ignored(bot, api):
    game = {"callback_query": {"id": "g1", "from": api.user(7019), "chat_instance": "c",
                               "game_short_name": "g",
                               "message": {**api.message(7019, text="?"), "from": BOT_USER}}}
    await api.queue(game)
    group_message = {**api.message(7019, text="?", chat_id=-1003), "from": BOT_USER}
    await api.press(7019, "ab12cd.keep", message=group_message)
    await bot.settle()
    assert sorted(c.params["callback_query_id"] for c in api.calls_to("answerCallbackQuery")
                  ) == ["1", "g1"]
    assert api.sent() == []


async def broken(inbound, **kwargs):
    raise RuntimeError("boom")


async def test_a_button_is_answered_when_the_core_fails(tg_config, core, api, world,
                                                       monkeypatch):
    monkeypatch.setattr(core, "handle", broken)
    running, stop, task = await start_polling(tg_config, core, api, monkeypatch)
    try:
        await api.press(7020, "ab12cd.keep")
        await running.settle()
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
    assert api.calls_to("answerCallbackQuery")


async def test_errors_in_the_handler_are_logged_with_traceback(
    tg_config, core, api, world, monkeypatch, caplog
):
    monkeypatch.setattr(core, "handle", broken)
    running, stop, task = await start_polling(tg_config, core, api, monkeypatch)
    try:
        with caplog.at_level(logging.ERROR):
            await api.send_text(7008, "xin chào")
            await running.settle()
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
    record = next(r for r in caplog.records if "error while handling" in r.getMessage())
    assert record.exc_info and "boom" in str(record.exc_info[1])
    assert TOKEN not in caplog.text


async def test_token_is_never_logged(tg_config, core, api, world, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    running, stop, task = await start_polling(tg_config, core, api, monkeypatch)
    try:
        await Person(running, 7009).send("xin chào")
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
    assert "getUpdates" in caplog.text and "<token>" in caplog.text
    assert TOKEN not in caplog.text and TOKEN.split(":")[1] not in caplog.text


async def test_no_token_is_misconfigured(config, core):
    with pytest.raises(Misconfigured):
        tg.build_application(config, core)


# ---- Update -> Inbound ------------------------------------------------------------------------

USER = {"id": 42, "is_bot": False, "first_name": "Lò", "last_name": "Văn Páo"}
CHAT = {"id": 42, "type": "private", "first_name": "Lò"}
DATE = 1_793_844_000  # 2026-11-05 02:00 UTC
WHEN = datetime.fromtimestamp(DATE, UTC)


def message(**content) -> dict:
    return {"message_id": 5, "date": DATE, "chat": CHAT, "from": USER, **content}


def inbound(**fields) -> Inbound:
    base = {"channel": "telegram", "sender_id": "42", "chat_id": "42", "message_id": "900",
            "display_name": "Lò Văn Páo", "received_at": WHEN}
    return Inbound(**{**base, **fields})


TO_INBOUND = [
    ("text", {"message": message(text="/baocao 120")}, inbound(text="/baocao 120")),
    ("photo with caption",
     {"message": message(photo=[{"file_id": "p", "file_unique_id": "u", "width": 1,
                                 "height": 1}], caption="ảnh họp thôn")},
     inbound(text="ảnh họp thôn", kind="image")),
    ("image as a file",
     {"message": message(document={"file_id": "d", "file_unique_id": "u",
                                   "mime_type": "image/jpeg"})},
     inbound(kind="image")),
    ("sticker",
     {"message": message(sticker={"file_id": "s", "file_unique_id": "u", "width": 1,
                                  "height": 1, "is_animated": False, "is_video": False,
                                  "type": "regular"})},
     inbound(kind="sticker")),
    ("voice", {"message": message(voice={"file_id": "v", "file_unique_id": "u",
                                         "duration": 3})},
     inbound(kind="unsupported")),
    ("own contact",
     {"message": message(contact={"phone_number": "+84912345678", "first_name": "Lò",
                                  "user_id": 42})},
     inbound(kind="unsupported", phone="+84912345678")),
    ("someone else's contact",
     {"message": message(contact={"phone_number": "+84900000000", "first_name": "Ai",
                                  "user_id": 99})},
     inbound(kind="unsupported")),
    ("button",
     {"callback_query": {"id": "q1", "from": USER, "chat_instance": "c", "data": "ab12cd.keep",
                         "message": {**message(text="?"), "from": BOT_USER}}},
     inbound(option="ab12cd.keep", kind="option", received_at=None)),
    ("group message",
     {"message": {**message(text="bc"), "chat": {"id": -100, "type": "group", "title": "T"}}},
     None),
    ("supergroup message",
     {"message": {**message(text="/thongke"),
                  "chat": {"id": -1001, "type": "supergroup", "title": "T"}}},
     None),
    ("button under a group message",
     {"callback_query": {"id": "q3", "from": USER, "chat_instance": "c", "data": "ab12cd.keep",
                         "message": {**message(text="?"), "from": BOT_USER,
                                     "chat": {"id": -100, "type": "group", "title": "T"}}}},
     None),
    ("button of an inline message",
     {"callback_query": {"id": "q4", "from": USER, "chat_instance": "c", "data": "ab12cd.keep",
                         "inline_message_id": "im1"}},
     None),
    ("a pinned message (a service message)",
     {"message": message(pinned_message={**message(text="120"), "from": BOT_USER})},
     None),
    ("auto-delete timer set (a service message)",
     {"message": message(message_auto_delete_timer_changed={"message_auto_delete_time": 86400})},
     None),
    ("video with a caption",
     {"message": message(video={"file_id": "v", "file_unique_id": "u", "width": 1, "height": 1,
                                "duration": 3}, caption="/baocao 120")},
     inbound(text="/baocao 120", kind="unsupported")),
    ("edited message", {"edited_message": {**message(text="x"), "edit_date": DATE}}, None),
    ("channel post",
     {"channel_post": {"message_id": 1, "date": DATE,
                       "chat": {"id": -5, "type": "channel", "title": "K"}, "text": "x"}},
     None),
    ("message of a bot", {"message": {**message(text="x"), "from": BOT_USER}}, None),
    ("game button",
     {"callback_query": {"id": "q2", "from": USER, "chat_instance": "c",
                         "game_short_name": "g"}},
     None),
]


@pytest.mark.parametrize("payload, expected", [case[1:] for case in TO_INBOUND],
                         ids=[case[0] for case in TO_INBOUND])
def test_to_inbound(payload, expected):
    update = Update.de_json({"update_id": 900, **payload}, None)
    assert tg.to_inbound(update) == expected


# ---- Outbound -> requests -----------------------------------------------------------------


@pytest.fixture
async def app_bot(tg_config, core, api):
    """The application's bot (rate limiter included), initialised but not polling."""
    application = tg.build_application(tg_config, core)
    async with application:
        yield application.bot


def short(*labels: str) -> tuple[Option, ...]:
    return tuple(Option(label, f"n1.{i}") for i, label in enumerate(labels))


MARKUP = [
    ("no options", Outbound("x"), None),
    ("short labels two a row", Outbound("x", short("✅ Gửi", "✏️ Sửa", "❌ Hủy")),
     [["✅ Gửi", "✏️ Sửa"], ["❌ Hủy"]]),
    ("long labels one a row",
     Outbound("x", short("Hộ nghèo, cận nghèo được vay vốn", "0 (không có)")),
     [["Hộ nghèo, cận nghèo được vay vốn"], ["0 (không có)"]]),
]


@pytest.mark.parametrize("outbound, rows", [c[1:] for c in MARKUP], ids=[c[0] for c in MARKUP])
async def test_to_markup_request(app_bot, api, outbound, rows):
    await tg.send(app_bot, "42", outbound)
    call = api.calls_to("sendMessage")[-1]
    assert call.chat_id == 42 and call.text == "x"
    if rows is None:
        assert "reply_markup" not in call.params
    else:
        assert [[b["text"] for b in row] for row in call.keyboard] == rows
        assert [b["callback_data"] for b in call.buttons] == [o.data for o in outbound.options]


def test_callback_data_is_cut_to_64_bytes_on_a_character_boundary():
    data = "a1b2c3." + "đ" * 40
    markup = tg.to_markup(Outbound("x", (Option("Nút", data),)))
    sent = markup.inline_keyboard[0][0].callback_data
    assert len(sent.encode()) <= 64 and data.startswith(sent)
    assert tg.callback_data("a1b2c3.fix:10") == "a1b2c3.fix:10"


async def test_long_text_is_split_at_line_ends_with_keyboard_last(app_bot, api):
    lines = [f"{n}. Dòng số liệu thứ {n} của báo cáo" for n in range(300)]
    text = "\n".join(lines)
    assert len(text) > 4096
    await tg.send(app_bot, 42, Outbound(text, short("✅ Gửi")))
    calls = api.calls_to("sendMessage")
    assert len(calls) == 3 and all(len(c.text) <= 4096 for c in calls)
    assert "\n".join(c.text for c in calls) == text
    assert [bool(c.buttons) for c in calls] == [False, False, True]


async def test_throttled_piece_is_sent_again_alone(app_bot, api):
    text = "\n".join(f"dòng {n} " + "x" * 60 for n in range(100))
    api.fail("sendMessage", 429, "Too Many Requests: retry after 0.1", retry_after=0.1, skip=1)
    await tg.send(app_bot, 42, Outbound(text), wait_throttled=1)
    calls = api.calls_to("sendMessage")
    assert [c.error for c in calls] == [None, 429, None]
    assert calls[1].text == calls[2].text != calls[0].text


def test_split_text_cuts_an_overlong_line():
    pieces = tg.split_text("x" * 5000 + "\nhết", limit=4096)
    assert pieces == ["x" * 4096, "x" * 904 + "\nhết"]
    assert tg.split_text("🙂" * 3000) == ["🙂" * 2048, "🙂" * 952]  # emoji count two


async def test_image_goes_as_photo_with_caption(app_bot, api):
    await tg.send(app_bot, 42, Outbound("Biểu đồ hộ nghèo", short("OK"), image=PNG))
    call = api.calls_to("sendPhoto")[-1]
    assert call.params["caption"] == "Biểu đồ hộ nghèo" and call.files["photo"][1] == PNG
    assert call.buttons[0]["text"] == "OK"
    assert not api.calls_to("sendMessage")


async def test_document_keeps_its_file_name(app_bot, api):
    xlsx = b"PK\x03\x04" + b"\x00" * 32
    await tg.send(app_bot, 42, Outbound("Báo cáo tháng 10", document=xlsx,
                                        filename="bao-cao-2026-10.xlsx"))
    call = api.calls_to("sendDocument")[-1]
    assert call.files["document"] == ("bao-cao-2026-10.xlsx", xlsx)
    assert call.params["caption"] == "Báo cáo tháng 10"


async def test_long_caption_goes_as_text_after_the_photo(app_bot, api):
    await tg.send(app_bot, 42, Outbound("chú thích " * 200, short("OK"), image=PNG))
    photo, = api.calls_to("sendPhoto")
    text, = api.calls_to("sendMessage")
    assert "caption" not in photo.params and not photo.buttons
    assert text.buttons and text.text.startswith("chú thích")


@pytest.mark.parametrize("caption, as_caption", [
    ("🙂" * 512, True),  # 512 characters, 1,024 UTF-16 units: fits
    ("🙂" * 513, False),  # 513 characters but 1,026 units: Telegram would refuse it
])
async def test_a_caption_is_measured_as_telegram_counts(app_bot, api, caption, as_caption):
    await tg.send(app_bot, 42, Outbound(caption, image=PNG))
    photo, = api.calls_to("sendPhoto")
    assert photo.error is None and ("caption" in photo.params) == as_caption
    assert [c.text for c in api.calls_to("sendMessage")] == ([] if as_caption else [caption])


ERRORS = [
    ("blocked", 403, "Forbidden: bot was blocked by the user", None, RecipientBlocked),
    ("deactivated", 403, "Forbidden: user is deactivated", None, RecipientBlocked),
    ("flood", 429, "Too Many Requests: retry after 7", 7, Throttled),
    ("chat not found", 400, "Bad Request: chat not found", None, RecipientBlocked),
    ("bad request", 400, "Bad Request: message is too long", None, Misconfigured),
    ("bad token", 401, "Unauthorized", None, Misconfigured),
    ("server error", 500, "Internal Server Error", None, Transient),
    ("bad gateway", 502, "Bad Gateway", None, Transient),
]


@pytest.mark.parametrize("status, description, retry_after, expected",
                         [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
async def test_error_responses_map_to_delivery_errors(
    app_bot, api, status, description, retry_after, expected
):
    api.fail("sendMessage", status, description, retry_after=retry_after)
    with pytest.raises(expected) as caught:
        await tg.send(app_bot, 42, Outbound("x"))
    assert isinstance(caught.value, DeliveryError) and caught.value.channel == "telegram"
    if retry_after is not None:
        assert caught.value.retry_after == retry_after and caught.value.retryable


def hold(api: FakeBotApi, chat_id: int):
    """An intercept that never answers ``sendMessage`` to ``chat_id`` (the rest goes on)."""
    async def never() -> None:
        await asyncio.Event().wait()

    return lambda call: never() if call.method == "sendMessage" and call.chat_id == chat_id \
        else None


async def test_a_send_telegram_never_answers_is_given_up_after_the_request_timeout(
        tg_config, core, api):
    cfg = replace(tg_config, telegram=replace(tg_config.telegram, request_timeout=0.5))
    async with tg.build_application(cfg, core) as application:
        api.intercept = hold(api, 42)
        started = time.monotonic()
        with pytest.raises(Transient):  # the outbox tries it again later, a reply is not
            await tg.TelegramSender(application.bot, cfg).send("42", Outbound("x"))
        assert time.monotonic() - started < 2
        await tg.send(application.bot, 43, Outbound("y"))  # not held up
    assert [c.chat_id for c in api.calls_to("sendMessage")] == [42, 43]  # 42 asked once


async def test_one_429_stops_every_send_of_the_token_until_retry_after_has_passed(
        app_bot, api, tg_config):
    """Telegram's «retry after» is for the bot's token: after it nothing more starts, neither
    the outbox's messages (refused at once, so the dispatcher puts them back) nor replies
    (they wait for the pause, up to a minute), until the pause is over."""
    api.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    with pytest.raises(Throttled):
        await tg.TelegramSender(app_bot, tg_config).send("41", Outbound("nhắc việc"))
    refused_at = api.calls_to("sendMessage")[0].at
    with pytest.raises(Throttled) as paused:  # Telegram is not asked meanwhile
        await tg.TelegramSender(app_bot, tg_config).send("42", Outbound("nhắc việc"))
    assert 0 < paused.value.retry_after <= 1
    await asyncio.gather(tg.deliver_replies(app_bot, "43", [Outbound("trả lời")]),
                         tg.send(app_bot, 44, Outbound("trả lời"), wait_throttled=60))
    calls = api.calls_to("sendMessage")
    assert [c.chat_id for c in calls] == [41, 43, 44] or [c.chat_id for c in calls] == [
        41, 44, 43]
    assert all(c.at - refused_at >= 0.99 for c in calls[1:])
    assert [c.chat_id for c in api.sent()] == [43, 44] or [
        c.chat_id for c in api.sent()] == [44, 43]


EXCEPTIONS = [  # built in the test: PTB warns when a RetryAfter is made
    (lambda: Forbidden("Forbidden: bot was kicked"), RecipientBlocked),
    (lambda: RetryAfter(3), Throttled),
    (lambda: BadRequest("Bad Request: message is too long"), Misconfigured),
    (lambda: InvalidToken(), Misconfigured),
    (lambda: ChatMigrated(-1001), Misconfigured),
    (lambda: TimedOut(), Transient),
    (lambda: NetworkError("httpx.ConnectError"), Transient),
    (lambda: TelegramError("something new"), Transient),
]


@pytest.mark.parametrize("make, expected", EXCEPTIONS, ids=[
    "forbidden", "retry-after", "bad-request", "invalid-token", "chat-migrated", "timed-out",
    "network", "other",
])
def test_delivery_error_vocabulary(make, expected):
    mapped = tg.delivery_error(make())
    assert type(mapped) is expected
    assert mapped.retryable == (expected in (Throttled, Transient))
    if expected is Throttled:
        assert mapped.retry_after == 3.0


# ---- PerChatUpdateProcessor ----------------------------------------------------------------


def chat_update(update_id: int, chat_id: int) -> Update:
    msg = {"message_id": update_id, "date": DATE, "text": "x",
           "chat": {"id": chat_id, "type": "private", "first_name": "A"},
           "from": {**USER, "id": chat_id}}
    return Update.de_json({"update_id": update_id, "message": msg}, None)


async def test_processor_orders_each_chat_and_overlaps_chats():
    processor = tg.PerChatUpdateProcessor(2)
    events: list[tuple[str, int, int]] = []
    running = 0
    most = 0

    async def work(chat: int, n: int, delay: float) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        events.append(("start", chat, n))
        await asyncio.sleep(delay)
        events.append(("end", chat, n))
        running -= 1

    plan = [(1, 1, 0.03), (1, 2, 0.0), (2, 1, 0.01), (1, 3, 0.01), (2, 2, 0.0), (3, 1, 0.0)]
    async with processor:
        tasks = [asyncio.create_task(processor.process_update(chat_update(i, chat),
                                                             work(chat, n, delay)))
                 for i, (chat, n, delay) in enumerate(plan)]
        await asyncio.gather(*tasks)
    for chat in (1, 2, 3):
        mine = [(kind, n) for kind, c, n in events if c == chat]
        expected = [(kind, n) for n in range(1, len(mine) // 2 + 1) for kind in ("start", "end")]
        assert mine == expected, chat
    assert events.index(("start", 2, 1)) < events.index(("end", 1, 1))  # chats overlap
    assert most <= 2 and processor.busy_chats == 0


# ---- start-up: the token first, one clear line when it fails ----------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_config(tg_config, tmp_path, **telegram):
    return replace(tg_config, db_path=tmp_path / "real.sqlite3",
                   telegram=replace(tg_config.telegram, **telegram),
                   stats=replace(tg_config.stats, chart_workers=0))


async def run_main(cfg, channels=("telegram",)) -> int:
    from bot import app

    return await app._main(cfg, "messengers", list(channels), None, None, False, None)


def one_error_line(caplog) -> str:
    """The one error the start logged; no record anywhere carries a traceback."""
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert not [r.getMessage() for r in caplog.records if r.exc_info]  # no traceback
    assert TOKEN not in caplog.text and TOKEN.split(":")[1] not in caplog.text
    return errors[0].getMessage()


async def test_a_wrong_token_at_start_up_is_one_line_naming_the_variable(
        tg_config, tmp_path, caplog):
    from bot import app

    async with FakeBotApi(token="654321:the-right-token") as api:
        cfg = start_config(tg_config, tmp_path, base_url=api.base_url)
        with caplog.at_level(logging.INFO):
            status = await run_main(cfg)
        assert api.calls_to("getMe") and not api.calls_to("getUpdates")
    assert status == app.EXIT_USAGE
    line = one_error_line(caplog)
    assert "GIAMNGHEO_TELEGRAM_TOKEN" in line and "refused" in line


async def test_an_unreachable_bot_api_is_tried_a_few_times_then_one_line(
        tg_config, tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(tg, "START_BACKOFF", 0.01)
    cfg = start_config(tg_config, tmp_path, base_url=f"http://127.0.0.1:{free_port()}/bot")
    with caplog.at_level(logging.INFO):
        status = await run_main(cfg)
    assert status != 0
    line = one_error_line(caplog)
    assert "cannot be reached" in line and "telegram.base_url" in line
    tries = [r for r in caplog.records if "getMe failed" in r.getMessage()]
    assert len(tries) == tg.START_TRIES - 1  # a warning for each try before the last


async def test_a_bot_api_that_fails_for_a_while_is_tried_again(
        tg_config, tmp_path, core, api, monkeypatch):
    monkeypatch.setattr(tg, "START_BACKOFF", 0.01)
    api.fail("getMe", 502, "Bad Gateway", times=tg.START_TRIES - 1)
    running, stop, task = await start_polling(start_config(tg_config, tmp_path), core, api,
                                              monkeypatch)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert [c.error for c in api.calls_to("getMe")] == [502] * (tg.START_TRIES - 1) + [None]


GARBAGE = [
    ("an HTML page", lambda call: web.Response(text="<html><body>Welcome to nginx!</body>"
                                                    "</html>", content_type="text/html")),
    ("JSON that is not the Bot API's", lambda call: web.json_response({"hello": "world"})),
    ("a Bot API answer without a bot", lambda call: web.json_response({"ok": True,
                                                                        "result": 42})),
    ("a web server's 404 page", lambda call: web.Response(
        text="<html><h1>404 Not Found</h1></html>", status=404, content_type="text/html")),
    ("an HTML error page", lambda call: web.Response(
        text="<html>502 Bad Gateway</html>" * 200, status=502, content_type="text/html")),
]


@pytest.mark.parametrize("answer", [g[1] for g in GARBAGE], ids=[g[0] for g in GARBAGE])
async def test_a_base_url_that_answers_garbage_is_one_line(
        tg_config, tmp_path, api, caplog, monkeypatch, answer):
    monkeypatch.setattr(tg, "START_BACKOFF", 0.01)
    api.intercept = answer
    with caplog.at_level(logging.INFO):
        status = await run_main(start_config(tg_config, tmp_path))
    assert status != 0
    line = one_error_line(caplog)
    assert "telegram.base_url" in line and len(line) < 400
    assert "GIAMNGHEO_TELEGRAM_TOKEN" not in line  # the token is not what is wrong


async def test_the_real_process_with_a_wrong_token_ends_in_one_line(tmp_path):
    """``python -m bot`` as an operator runs it: exit status 2, one line, no traceback."""
    async with FakeBotApi(token="654321:the-right-token") as api:
        config = tmp_path / "config.toml"
        config.write_text(f'[telegram]\nbase_url = "{api.base_url}"\n'
                          f'base_file_url = "{api.base_file_url}"\n', encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIAMNGHEO_")}
        env.update(GIAMNGHEO_CONFIG=str(config), GIAMNGHEO_DB=str(tmp_path / "bot.sqlite3"),
                   GIAMNGHEO_TELEGRAM_TOKEN=TOKEN)
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=ROOT, env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(process.communicate(), 60)
        took = time.monotonic() - started
    stderr = err.decode()
    assert process.returncode == 2, stderr
    assert "Traceback" not in stderr and TOKEN not in stderr and out == b""
    errors = [line for line in stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and "GIAMNGHEO_TELEGRAM_TOKEN" in errors[0], stderr
    assert took < 30


class ChartStart:
    """Records when the chart workers would start (and starts none)."""

    def __init__(self, monkeypatch):
        self.at: list[float] = []
        from reports import charts

        async def start(renderer) -> None:
            self.at.append(time.monotonic())

        monkeypatch.setattr(charts.ChartRenderer, "start", start)


def both_config(tg_config, tmp_path, api, zalo_api):
    port = free_port()
    zalo = replace(tg_config.zalo, token=ZALO_TOKEN, webhook_secret="secret-for-tests",
                   base_url=zalo_api.base_url, mode="webhook", listen_host="127.0.0.1",
                   listen_port=port, public_base_url=f"http://127.0.0.1:{port}")
    return replace(start_config(tg_config, tmp_path, base_url=api.base_url), zalo=zalo)


@pytest.mark.parametrize("wrong", ["telegram", "zalo"])
async def test_a_wrong_token_is_told_before_the_heavy_parts_start(
        tg_config, tmp_path, caplog, monkeypatch, wrong):
    charts = ChartStart(monkeypatch)
    async with (FakeBotApi(token=None if wrong == "zalo" else "654321:right") as api,
                FakeZaloApi(token="right" if wrong == "zalo" else ZALO_TOKEN) as zalo_api):
        cfg = both_config(tg_config, tmp_path, api, zalo_api)
        with caplog.at_level(logging.INFO):
            status = await run_main(cfg, ("telegram", "zalo"))
        assert not api.calls_to("getUpdates")  # Telegram never started polling
        if wrong == "telegram":
            assert not zalo_api.calls  # nothing was asked of Zalo
    assert status != 0 and charts.at == []  # no chart worker was started
    line = one_error_line(caplog)
    assert f"GIAMNGHEO_{wrong.upper()}_TOKEN" in line


async def test_both_tokens_are_checked_before_the_chart_workers_start(
        tg_config, tmp_path, monkeypatch):
    from bot import app

    charts = ChartStart(monkeypatch)
    async with FakeBotApi() as api, FakeZaloApi() as zalo_api:
        cfg = both_config(tg_config, tmp_path, api, zalo_api)
        async with app.open_services(cfg) as services:
            stop = asyncio.Event()
            task = asyncio.create_task(app._run_messengers(services, ["telegram", "zalo"],
                                                           stop))
            for _ in range(300):
                if api.calls_to("getUpdates") or task.done():
                    break
                await asyncio.sleep(0.01)
            stop.set()
            assert await asyncio.wait_for(task, 10) == app.EXIT_OK
        checks = [api.calls_to("getMe")[0].at, zalo_api.calls_to("getMe")[0].at]
        assert len(charts.at) == 1 and max(checks) < charts.at[0]
        assert charts.at[0] < api.calls_to("getUpdates")[0].at


async def test_a_token_revoked_while_running_stops_the_bot_in_one_line(
        tg_config, tmp_path, caplog):
    """PTB's polling gives up on a refused token (its networkloop logs «Invalid token.
    Aborting retry loop.» with a traceback) and the process would go on, deaf."""
    from bot import app

    async with FakeBotApi(token=TOKEN) as api:
        cfg = start_config(tg_config, tmp_path, base_url=api.base_url)
        with caplog.at_level(logging.INFO):
            task = asyncio.create_task(run_main(cfg))
            for _ in range(300):
                if api.calls_to("getUpdates") or task.done():
                    break
                await asyncio.sleep(0.01)
            api.token = "654321:a-new-token"  # revoked in @BotFather
            status = await asyncio.wait_for(task, 10)
    assert status == app.EXIT_USAGE
    line = one_error_line(caplog)
    assert "GIAMNGHEO_TELEGRAM_TOKEN" in line and "while" in line
