"""The reporting calendar end to end: planning, the outbox, and delivery through the real
python-telegram-bot stack against the local fake Bot API (nothing leaves the machine).

The clock is the test's: a whole year of the calendar runs in seconds.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime

import pytest
from telegram import Bot

from bot.channels.telegram import TelegramSender
from common.config import replace
from common.delivery import OutsideWindow, RecipientBlocked
from common.messages import Outbound
from handlers.core import Core
from reports.periods import Month
from scheduler.dispatcher import Dispatcher
from scheduler.planner import PLANNED_UNTIL, Planner
from storage import areas, outbox, people
from storage.db import Database
from storage.meta import set_meta
from storage.outbox import Planned
from storage.query import fetch_all
from storage.reports import MONTHLY_FORM, save_report
from tests.conftest import SETUP, Chat
from tests.fake_bot_api import FakeBotApi

TOKEN = "123456:FAKE-token-for-reminders"
# PTB 22 itself warns, when it builds a RetryAfter, that retry_after will become a timedelta.
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")
CHATS = {"head": 100, "officer": 200, "province": 300, "far_head": 400}


@pytest.fixture
def cfg(config):
    """Fast sending (the rate itself is measured by bench.reminders), one message at a time."""
    telegram = replace(config.telegram, token=TOKEN, overall_max_rate=2000,
                       per_chat_interval=0)
    return replace(config, telegram=telegram,
                   outbox=replace(config.outbox, concurrency=1, retry_base_seconds=5))


@pytest.fixture
async def api(clock):
    async with FakeBotApi(clock) as server:
        yield server


@pytest.fixture
async def on_telegram(db, world, clock):
    """The world's four people also use Telegram (chat ids 100, 200, 300, 400)."""
    ids = {"head": world.head_id, "officer": world.officer_id,
           "province": world.province_officer_id, "far_head": world.far_head_id}
    async with db.write() as conn:
        for who, person_id in ids.items():
            await people.link_identity(conn, person_id, channel="telegram",
                                       external_id=str(CHATS[who]), chat_id=str(CHATS[who]),
                                       display_name=who, actor=SETUP, at=clock())
    return ids


@pytest.fixture
async def bot(api):
    async with Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as b:
        yield b


@pytest.fixture
def planner(db, cfg, clock):
    return Planner(db, cfg, clock)


@pytest.fixture
def dispatcher(db, cfg, clock, bot):
    return Dispatcher(db, cfg, {"telegram": TelegramSender(bot, cfg)}, clock)


async def running_since(db, clock, local: str) -> None:
    """The bot has been running (and planning) until ``local`` time."""
    clock.set_local(local)
    async with db.write() as conn:
        await set_meta(conn, PLANNED_UNTIL, clock().isoformat())


async def file_monthly(db, area, period: str, clock, person_id=None) -> None:
    async with db.write() as conn:
        await save_report(conn, area_id=area.id, form=MONTHLY_FORM, period=period,
                          data={"total": 100, "poor": 10, "near_poor": 5, "exited": 0,
                                "newly_poor": 0, "fallen_back": 0, "em_poor": 3, "loans": 4,
                                "support_vnd": 0, "note": ""},
                          actor=SETUP, via="test", at=clock())


def texts(api: FakeBotApi, chat: int, since: int = 0) -> list[str]:
    return [c.text for c in api.sent(chat, since=since)]


# ---- a whole year -------------------------------------------------------------------------


async def test_a_year_of_the_calendar_sends_exactly_the_expected_messages(
        db, cfg, clock, world, on_telegram, api, planner, dispatcher):
    """2027, hour by hour. Bản Nà Khan files its monthly reports on the 1st until June and
    then stops; Bản Nậm Củm never files; Bản Pa Ủ has no village head on the bot; nobody
    files a 6-month or yearly report. Every message is checked: who, when, what."""
    tz = cfg.timezone
    await running_since(db, clock, "2027-01-01 00:00")
    head = Chat(Core(db, cfg, clock), "100")  # the village head, from another channel
    end = datetime(2028, 1, 1, tzinfo=tz)
    got: list[tuple[int, str, str]] = []
    mark = 0
    while clock() < end:
        clock.advance(hours=1)
        local = clock().astimezone(tz)
        if local.day == 1 and local.hour == 10 and local.month <= 6:
            period = Month(local.year, local.month).previous()
            reply = await head.send(f"/baocao {period.label} 120 15 8 2 1 0 3 10 5tr")
            assert "✅ Gửi" in head.options(), reply
            assert "Đã lưu" in await head.send("gui")
        await planner.tick()
        await dispatcher.drain()
        for call in api.sent(since=mark):
            got.append((call.chat_id, f"{local:%m-%d %H:%M}", call.text))
        mark = len(api.calls)

    expected: list[tuple[int, str, str]] = []

    def at(month: int, day: int) -> str:
        return f"{month:02d}-{day:02d} 08:00"

    for month in range(1, 13):  # the report of the month before, due on the 5th
        label = f"Báo cáo tháng {Month(2027, month).previous().label}"
        for day in (2, 5, 7):  # D−3, D0, D+2
            if month >= 7:
                expected.append((100, at(month, day), f"⏰ Nhắc việc: {label} của Bản Nà Khan"))
            expected.append((400, at(month, day), f"⏰ Nhắc việc: {label} của Bản Nậm Củm"))
        expected.append((200, at(month, 7), f"📋 {label} (hạn 05/"))
        expected.append((300, at(month, 8), f"📊 Tiến độ {label} (hạn 05/"))
    for name, reminders, due_month, due, commune_due in (
            ("Báo cáo sơ kết 6 tháng đầu năm 2027", (13, 19, 20, 23), 6, 20, 25),
            ("Báo cáo tổng kết năm 2027", (10, 17, 20, 23), 11, 20, 30)):
        for day in reminders:
            for chat, village in ((100, "Bản Nà Khan"), (400, "Bản Nậm Củm")):
                expected.append((chat, at(due_month, day), f"⏰ Nhắc việc: {name} của {village}"))
        expected.append((200, at(due_month, due + 3), f"📋 {name} (hạn {due}/"))
        expected.append((300, at(due_month, due + 5), f"📊 Tiến độ {name}"))
        commune_month = due_month if due_month == 6 else 12
        for offset in (-7, -1, 0, 3) if due_month == 6 else (-10, -3, 0):
            expected.append((200, at(commune_month, commune_due + offset),
                             f"⏰ Nhắc việc: {name} của Xã Mường Tè (cấp xã)"))
        if due_month == 6:
            expected.append((300, at(6, commune_due + 3), f"📋 {name} của các xã"))
    # The communes' yearly report of 2026 (due 30/12/2026), three days late on 2 January.
    expected.append((200, at(1, 2), "⏰ Nhắc việc: Báo cáo tổng kết năm 2026 của Xã Mường Tè"))
    expected.append((300, at(1, 2), "📋 Báo cáo tổng kết năm 2026 của các xã (hạn 30/12/2026)"))
    for chat in (100, 200, 300, 400):
        expected.append((chat, at(9, 1), "📣 Từ 01/09 đến 14/12/2027 là đợt rà soát hộ nghèo"))
        expected.append((chat, at(10, 17), "📣 Từ 17/10 đến 18/11/2027 là Tháng cao điểm"))

    unmatched = list(got)
    missing = []
    for chat, when, start in expected:
        found = next((m for m in unmatched if m[0] == chat and m[1] == when
                      and m[2].startswith(start)), None)
        if found is None:
            missing.append((chat, when, start))
        else:
            unmatched.remove(found)
    assert not missing, f"expected but not sent: {missing}"
    assert not unmatched, f"sent but not expected: {unmatched}"

    # What the late lists say: the village without a head, and who heads the late one.
    july = next(m[2] for m in got if m[0] == 200 and m[1] == "07-07 08:00")
    assert "còn 2/2 thôn chưa gửi" in july
    assert "Bản Nà Khan (trưởng thôn: Lò Văn Páo)" in july
    assert "Bản Pa Ủ (chưa có trưởng thôn dùng bot)" in july
    march = next(m[2] for m in got if m[0] == 300 and m[1] == "03-08 08:00")
    assert "1/3 thôn đã gửi" in march and "Xã Mường Tè: 1/2" in march
    assert "Xã Bum Nưa: 0/1" in march


# ---- planning -----------------------------------------------------------------------------


async def test_reminder_offers_one_tap_start_and_only_goes_to_those_missing(
        db, cfg, clock, world, on_telegram, api, planner, dispatcher):
    await running_since(db, clock, "2026-12-01 12:00")
    await file_monthly(db, world.far_village, "2026-11", clock)
    clock.set_local("2026-12-02 08:00")
    await planner.tick()
    await dispatcher.drain()
    assert texts(api, 400) == []  # filed: not bothered
    [reminder] = api.sent(100)
    assert reminder.text.startswith("⏰ Nhắc việc: Báo cáo tháng 11/2026 của Bản Nà Khan")
    assert "hạn 05/12/2026, còn 3 ngày" in reminder.text
    assert reminder.buttons == [{"text": "📝 Báo cáo ngay", "callback_data": "cmd:report 11/2026"}]

    # The button opens the report of that month, as "/baocao 11/2026" would.
    chat = Chat(Core(db, cfg, clock), "100")
    reply = await chat.press_data("cmd:report 11/2026")
    assert "Báo cáo tháng 11/2026 — Bản Nà Khan" in reply and "(1/10)" in reply


async def test_a_report_filed_before_the_reminder_goes_drops_it(
        db, cfg, clock, world, on_telegram, api, planner, dispatcher):
    await running_since(db, clock, "2026-12-01 12:00")
    clock.set_local("2026-12-02 08:00")
    await planner.tick()  # planned, not yet sent
    await file_monthly(db, world.village, "2026-11", clock)
    await dispatcher.drain()
    assert texts(api, 100) == []
    assert len(texts(api, 400)) == 1
    async with db.read() as conn:
        states = {r["full_name"]: r["state"] for r in await outbox.outbox_rows(conn)}
    assert states == {"Lò Văn Páo": "skipped", "Pờ Văn Sứ": "sent"}


async def test_a_time_missed_while_down_is_caught_up_once(
        db, cfg, clock, world, on_telegram, api, planner, dispatcher, bot):
    await running_since(db, clock, "2026-12-01 12:00")
    clock.set_local("2026-12-03 10:30")  # down over D−3 (2 Dec, 08:00); D0 is 5 Dec
    await planner.tick()
    await dispatcher.drain()
    [late] = texts(api, 100)
    assert "Báo cáo tháng 11/2026" in late and "còn 2 ngày" in late
    # A restart: a new planner and dispatcher on the same database send nothing again.
    again = Planner(db, cfg, clock)
    await again.tick()
    await Dispatcher(db, cfg, {"telegram": TelegramSender(bot, cfg)}, clock).drain()
    assert len(texts(api, 100)) == 1


async def test_an_expired_time_is_not_caught_up(
        db, cfg, clock, world, on_telegram, api, planner, dispatcher):
    await running_since(db, clock, "2026-12-01 12:00")
    clock.set_local("2026-12-06 09:00")  # down over D−3 and D0: only D0 is still worth it
    await planner.tick()
    await dispatcher.drain()
    [only] = texts(api, 100)
    assert "hạn 05/12/2026, đã quá hạn 1 ngày" in only


async def test_a_person_with_two_villages_and_two_roles_gets_one_reminder(
        db, cfg, clock, world, on_telegram, api, planner, dispatcher):
    async with db.write() as conn:  # Lò Văn Páo also heads Bản Pa Ủ and is a commune officer
        head = await people.get_person(conn, world.head_id)
        await people.grant_role(conn, head.id, "village_head", world.village2, actor=SETUP,
                                at=clock())
        await people.grant_role(conn, head.id, "officer", world.commune, actor=SETUP,
                                at=clock())
    await running_since(db, clock, "2026-12-01 12:00")
    clock.set_local("2026-12-02 08:00")
    await planner.tick()
    await dispatcher.drain()
    [reminder] = texts(api, 100)
    assert "của Bản Nà Khan, Bản Pa Ủ chưa được gửi" in reminder


async def test_a_reminder_planned_in_quiet_hours_waits_for_the_morning(
        db, cfg, clock, world, on_telegram, api, planner, dispatcher):
    await running_since(db, clock, "2026-12-01 12:00")
    clock.set_local("2026-12-02 22:30")  # the bot comes back at night: D−3 still relevant
    await planner.tick()
    await dispatcher.drain()
    assert texts(api, 100) == []
    clock.set_local("2026-12-03 06:59")
    await dispatcher.drain()
    assert texts(api, 100) == []
    clock.set_local("2026-12-03 07:00")
    await dispatcher.drain()
    assert len(texts(api, 100)) == 1


async def test_an_override_gives_a_commune_its_own_dates(
        db, config, cfg, clock, world, on_telegram, api, bot, tmp_path):
    from common.config import load_config

    path = tmp_path / "config.toml"
    path.write_text('[[calendar.overrides]]\narea = "03466"\n'  # Xã Bum Nưa
                    'monthly = { due_day = 8, reminders = [-1] }\n', encoding="utf-8")
    custom = replace(cfg, calendar=load_config(path, env={}).calendar)
    planner = Planner(db, custom, clock)
    dispatcher = Dispatcher(db, custom, {"telegram": TelegramSender(bot, custom)}, clock)
    await running_since(db, clock, "2026-12-01 12:00")
    for day in range(2, 9):
        clock.set_local(f"2026-12-{day:02d} 08:00")
        await planner.tick()
        await dispatcher.drain()
    assert len(texts(api, 100)) == 3  # the default calendar: 2, 5, 7 December
    [own] = texts(api, 400)  # Bum Nưa: due on the 8th, reminded the day before
    assert "hạn 08/12/2026, còn 1 ngày" in own


# ---- delivery -----------------------------------------------------------------------------


async def _plan_many(db, clock, world, n: int) -> list[int]:
    """``n`` more village heads in Bản Nà Khan's commune, each with a Telegram chat."""
    chats = []
    async with db.write() as conn:
        for i in range(n):
            pid = await people.create_person(conn, f"Người {i:02d}", actor=SETUP, at=clock())
            chat = 5000 + i
            await people.link_identity(conn, pid, channel="telegram", external_id=str(chat),
                                       chat_id=str(chat), display_name="", actor=SETUP,
                                       at=clock())
            await people.grant_role(conn, pid, "village_head", world.village2, actor=SETUP,
                                    at=clock())
            chats.append(chat)
    return chats


async def test_a_crash_between_two_sends_then_a_restart_sends_each_once(
        db, cfg, clock, world, on_telegram, api, planner, bot):
    chats = await _plan_many(db, clock, world, 20)
    await running_since(db, clock, "2026-12-01 12:00")
    clock.set_local("2026-12-02 08:00")
    await planner.tick()
    first = Dispatcher(db, cfg, {"telegram": TelegramSender(bot, cfg)}, clock)
    stop = asyncio.Event()
    task = asyncio.create_task(first.run(stop))

    def crash_at_the_eleventh(call):
        if call.method == "sendMessage" and len(api.calls_to("sendMessage")) == 11:
            # The process dies while this request is on its way (it is lost): every task of the
            # dispatcher stops where it is, nothing more is written.
            for delivery in first.in_flight:
                delivery.cancel()
            task.cancel()
            return api.error(call, 502, "Bad Gateway")
        return None

    api.intercept = crash_at_the_eleventh
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
    assert len(api.sent()) == 10
    async with db.read() as conn:
        states = [r["state"] for r in await outbox.outbox_rows(conn)]
    assert states.count("sent") == 10 and states.count("sending") == 1

    api.intercept = None
    second = Dispatcher(db, cfg, {"telegram": TelegramSender(bot, cfg)}, clock)
    stop = asyncio.Event()
    task = asyncio.create_task(second.run(stop))
    for _ in range(200):
        if len(api.sent()) >= 22:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, 5)
    received = [int(c.chat_id) for c in api.sent()]
    assert sorted(received) == sorted([*chats, 100, 400])  # each exactly once


async def test_throttling_pauses_the_channel_for_retry_after(
        db, cfg, clock, world, on_telegram, api, planner, dispatcher):
    await _plan_many(db, clock, world, 5)
    await running_since(db, clock, "2026-12-01 12:00")
    clock.set_local("2026-12-02 08:00")
    await planner.tick()
    api.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, skip=2)
    await dispatcher.drain()
    assert len(api.sent()) == 6  # the others went on after the pause; the third waits
    clock.advance(seconds=2)
    await dispatcher.drain()
    calls = api.calls_to("sendMessage")
    assert [c.error for c in calls] == [None, None, 429, None, None, None, None, None]
    assert calls[3].at - calls[2].at >= 0.99  # nothing was sent before retry_after was over
    assert len({c.chat_id for c in api.sent()}) == 7


async def test_after_a_429_no_send_starts_until_retry_after_has_passed(
        db, cfg, clock, world, on_telegram, api, planner, bot):
    """Eight messages in flight at once, each waiting for its sending slot: when one is
    refused with «retry after», those already waiting for their slot wait for the pause too
    (none starts inside it), then go on at the channel's rate."""
    await _plan_many(db, clock, world, 12)
    await running_since(db, clock, "2026-12-01 12:00")
    clock.set_local("2026-12-02 08:00")
    await planner.tick()
    paced = replace(cfg, telegram=replace(cfg.telegram, overall_max_rate=20),
                    outbox=replace(cfg.outbox, concurrency=8))
    dispatcher = Dispatcher(db, paced, {"telegram": TelegramSender(bot, paced)}, clock)
    api.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, skip=1)
    await dispatcher.drain()
    calls = api.calls_to("sendMessage")
    [refused] = [c for c in calls if c.error == 429]
    after = [c.at - refused.at for c in calls if c.at > refused.at]
    assert len(after) == 12  # all but the first and the refused one, none inside the pause
    assert min(after) >= 0.99, after
    assert all(b - a >= 0.04 for a, b in zip(after, after[1:], strict=False))  # paced again
    clock.advance(seconds=2)
    await dispatcher.drain()
    assert len({c.chat_id for c in api.sent()}) == 14


async def test_a_send_the_database_cannot_record_at_once_is_not_sent_again(
        db, cfg, clock, world, on_telegram, api, planner, bot, tmp_path):
    """Another process holds the database longer than ``busy_timeout`` just as Telegram
    takes a reminder: the bot cannot write «sent» yet. The reminder is out, so the record is
    tried again until it holds; the reminder is never put back in the queue and sent again."""
    await running_since(db, clock, "2026-12-01 12:00")
    clock.set_local("2026-12-02 08:00")
    await planner.tick()
    await db.close()
    short = await Database.open(tmp_path / "test.sqlite3", busy_timeout_ms=100)
    locker = sqlite3.connect(tmp_path / "test.sqlite3", timeout=5, isolation_level=None)
    held = []

    def lock_then_answer(call):
        if call.method == "sendMessage" and not held:
            locker.execute("BEGIN IMMEDIATE")  # taken: from now on nobody else writes
            held.append(asyncio.get_running_loop().call_later(1.0, locker.execute,
                                                              "ROLLBACK"))
        return None

    api.intercept = lock_then_answer
    try:
        dispatcher = Dispatcher(short, cfg, {"telegram": TelegramSender(bot, cfg)}, clock)
        await dispatcher.drain()
        clock.advance(minutes=10)
        await dispatcher.drain()
        async with short.read() as conn:
            states = [r["state"] for r in await outbox.outbox_rows(conn)]
    finally:
        await short.close()
        locker.close()
    assert sorted(c.chat_id for c in api.sent()) == [100, 400]  # each once
    assert states == ["sent", "sent"]


async def test_a_person_who_blocked_the_bot_is_marked_and_the_officer_told(
        db, cfg, clock, world, on_telegram, api, planner, dispatcher):
    await running_since(db, clock, "2026-12-01 12:00")
    clock.set_local("2026-12-02 08:00")
    await planner.tick()

    def blocked(call):
        if call.method == "sendMessage" and call.chat_id == 100:
            return api.error(call, 403, "Forbidden: bot was blocked by the user")
        return None

    api.intercept = blocked
    await dispatcher.drain()
    alert = texts(api, 200)
    assert alert == ["⚠️ Bot không gửi được tin nhắn tới 1 người trong địa bàn của bạn:\n"
                     "• Lò Văn Páo (Bản Nà Khan): đã chặn bot trên Telegram.\n"
                     "Vui lòng liên hệ trực tiếp; nhờ họ bỏ chặn bot (nếu đã chặn) rồi gửi cho "
                     "bot một tin bất kỳ (ví dụ «menu») trên Zalo hoặc Telegram, để bot lại "
                     "gửi được cho họ."]
    async with db.read() as conn:
        rows = {r["full_name"]: r for r in await outbox.outbox_rows(conn)}
        blocked_at = await fetch_all(conn, "SELECT blocked_at FROM identities"
                                     " WHERE channel = 'telegram' AND external_id = '100'")
    assert rows["Lò Văn Páo"]["state"] == "unreachable"
    assert blocked_at[0][0] is not None
    assert len(api.calls_to("sendMessage")) == 3  # 100 once (refused), 400, the officer

    # Next reminder: nobody tries the blocked chat again...
    api.intercept = None
    clock.set_local("2026-12-05 08:00")
    await planner.tick()
    await dispatcher.drain()
    assert texts(api, 100) == []
    # ...until the person writes again: they have unblocked the bot.
    tg = Chat(Core(db, cfg, clock), "100", channel="telegram")
    await tg.send("/toi")
    clock.set_local("2026-12-07 08:00")
    await planner.tick()
    await dispatcher.drain()
    assert len(texts(api, 100)) == 1


class _ZaloOutsideItsWindow:
    """A Zalo channel that refuses everyone: they have not written to the bot for a while."""

    channel, rate, per_chat_interval = "zalo", 1000.0, 0.0

    async def send(self, chat_id, message):
        raise OutsideWindow("User has not interacted with the bot in the last 7 days",
                            channel="zalo")


async def _unreachable_heads(db, clock, world) -> list[int]:
    """Twelve more heads in Bản Pa Ủ: four blocked the bot on Telegram, four whose Telegram
    chat is not found, four on Zalo only, whom Zalo no longer lets the bot write to."""
    chats = await _plan_many(db, clock, world, 12)
    async with db.write() as conn:
        for chat in chats[8:]:
            await conn.execute("UPDATE identities SET channel = 'zalo', external_id = ?,"
                               " chat_id = ? WHERE channel = 'telegram' AND external_id = ?",
                               (f"z{chat}", f"z{chat}", str(chat)))
    return chats


def _refuse(api, chats):
    """The fake Bot API refuses the first four ``chats`` as blocked, the others as unknown."""
    def refuse(call):
        if call.method != "sendMessage" or call.chat_id not in chats:
            return None
        if call.chat_id in chats[:4]:
            return api.error(call, 403, "Forbidden: bot was blocked by the user")
        return api.error(call, 400, "Bad Request: chat not found")
    return refuse


async def test_the_officer_gets_one_alert_listing_everyone_unreachable_and_why(
        db, cfg, clock, world, on_telegram, api, planner, bot):
    chats = await _unreachable_heads(db, clock, world)
    api.intercept = _refuse(api, chats)
    dispatcher = Dispatcher(db, cfg, {"telegram": TelegramSender(bot, cfg),
                                      "zalo": _ZaloOutsideItsWindow()}, clock)
    await running_since(db, clock, "2026-12-01 12:00")
    clock.set_local("2026-12-02 08:00")
    await planner.tick()
    await dispatcher.drain()
    [alert] = texts(api, 200)  # one message for the twelve, not twelve
    assert alert.startswith("⚠️ Bot không gửi được tin nhắn tới 12 người trong địa bàn của "
                            "bạn:\n")
    lines = alert.splitlines()
    for i in range(12):
        [line] = [x for x in lines if f"Người {i:02d} " in x]
        assert "(Bản Pa Ủ)" in line
        if i < 4:
            assert line.endswith(": đã chặn bot trên Telegram."), line
        elif i < 8:
            assert line.endswith(": Telegram không tìm thấy cuộc trò chuyện của người này "
                                 "với bot (tài khoản đã xóa, hoặc chưa từng nhắn cho bot "
                                 "này)."), line
        else:
            assert line.endswith(": Zalo không cho bot nhắn vì người này lâu rồi chưa nhắn "
                                 "cho bot."), line
    assert "Vui lòng liên hệ trực tiếp" in alert
    assert texts(api, 300) == []  # the commune's officers are told, not the province's
    async with db.read() as conn:
        states = [r["state"] for r in await outbox.outbox_rows(conn)
                  if r["full_name"].startswith("Người")]
    assert states == ["unreachable"] * 12
    clock.advance(hours=1)
    await dispatcher.drain()  # told once
    assert len(texts(api, 200)) == 1


class _ZaloBlockedBy:
    """A Zalo channel on which the people of ``chats`` blocked the bot."""

    channel, rate, per_chat_interval = "zalo", 1000.0, 0.0

    def __init__(self, chats: set[str]):
        self.chats, self.sent = chats, []

    async def send(self, chat_id, message):
        if chat_id in self.chats:
            raise RecipientBlocked("User has blocked the bot", channel="zalo")
        self.sent.append(chat_id)


async def test_forty_people_who_blocked_the_bot_make_one_alert_for_their_officer(
        db, cfg, clock, world, on_telegram, api, bot):
    """The issue's case: an announcement to 60 heads of one commune, 40 of whom blocked the
    bot (20 on Telegram, 20 on Zalo), while one message is retried (the campaign stays open
    over several rounds of the dispatcher): the commune's officer gets one alert naming all
    40, not 40 alerts."""
    chats = await _plan_many(db, clock, world, 60)
    zalo_blocked = {f"z{c}" for c in chats[20:40]}
    async with db.write() as conn:
        for chat in chats[20:40]:
            await conn.execute("UPDATE identities SET channel = 'zalo', external_id = ?,"
                               " chat_id = ? WHERE channel = 'telegram' AND external_id = ?",
                               (f"z{chat}", f"z{chat}", str(chat)))
        heads = [r[0] for r in await fetch_all(
            conn, "SELECT person_id FROM identities WHERE external_id LIKE '5%'"
            " OR external_id LIKE 'z5%'")]
        await outbox.create_campaign(
            conn, key="t:forty", kind="announce", at=clock(), not_before=clock(),
            messages=[Planned(p, Outbound("Họp dân lúc 8 giờ.")) for p in heads])
    failed_once = []

    def refuse(call):
        if call.method != "sendMessage":
            return None
        if call.chat_id in chats[:20]:
            return api.error(call, 403, "Forbidden: bot was blocked by the user")
        if call.chat_id == chats[50] and not failed_once:
            failed_once.append(call)
            return api.error(call, 502, "Bad Gateway")
        return None

    api.intercept = refuse
    dispatcher = Dispatcher(db, replace(cfg, outbox=replace(cfg.outbox, concurrency=8)),
                            {"telegram": TelegramSender(bot, cfg),
                             "zalo": _ZaloBlockedBy(zalo_blocked)}, clock)
    for _ in range(3):  # rounds of the dispatcher while the retried message waits (5 s)
        await dispatcher.drain()
        await dispatcher.maintain()
        assert texts(api, 200) == [] and failed_once
        clock.advance(seconds=2)
    await dispatcher.drain()
    await dispatcher.maintain()
    await dispatcher.drain()
    [alert] = texts(api, 200)
    assert alert.startswith("⚠️ Bot không gửi được tin nhắn tới 40 người trong địa bàn")
    assert alert.count("đã chặn bot trên Telegram") == 20
    assert alert.count("đã chặn bot trên Zalo") == 20
    assert len([c for c in api.sent() if c.chat_id in chats[40:]]) == 20  # the others, once
    clock.advance(hours=2)
    await dispatcher.maintain()
    await dispatcher.drain()
    assert len(texts(api, 200)) == 1  # and never again


async def test_an_alert_due_at_night_waits_for_the_morning(
        db, cfg, clock, world, on_telegram, api, bot):
    chats = await _plan_many(db, clock, world, 1)
    api.intercept = _refuse(api, chats)
    dispatcher = Dispatcher(db, cfg, {"telegram": TelegramSender(bot, cfg)}, clock)
    clock.set_local("2026-12-02 20:50")
    async with db.write() as conn:  # an announcement whose last message waits until 21:30
        pid = (await fetch_all(conn, "SELECT person_id FROM identities WHERE external_id = ?",
                               (str(chats[0]),)))[0][0]
        await outbox.create_campaign(
            conn, key="t:night", kind="announce", at=clock(), not_before=clock(),
            messages=[Planned(p, Outbound("Họp dân lúc 20 giờ.")) for p in (pid, world.head_id)])
        await conn.execute("UPDATE outbox SET not_before = ? WHERE person_id = ?",
                           ("2026-12-02T14:30:00+00:00", world.head_id))
    await dispatcher.drain()  # 20:50: Người 00 cannot be reached; the campaign goes on
    clock.set_local("2026-12-02 21:30")
    await dispatcher.drain()  # 21:30: done, the alert is planned, but not sent at night
    assert len(texts(api, 100)) == 1 and texts(api, 200) == []
    clock.set_local("2026-12-03 07:00")
    await dispatcher.drain()
    [alert] = texts(api, 200)
    assert "Người 00 (Bản Pa Ủ): đã chặn bot trên Telegram." in alert


async def test_a_campaign_still_sending_does_not_keep_the_officer_waiting(
        db, cfg, clock, world, on_telegram, api, bot):
    chats = await _plan_many(db, clock, world, 1)
    api.intercept = _refuse(api, chats)
    dispatcher = Dispatcher(db, cfg, {"telegram": TelegramSender(bot, cfg)}, clock)
    clock.set_local("2026-12-02 09:00")
    async with db.write() as conn:  # one message of the campaign waits until the afternoon
        pid = (await fetch_all(conn, "SELECT person_id FROM identities WHERE external_id = ?",
                               (str(chats[0]),)))[0][0]
        await outbox.create_campaign(
            conn, key="t:long", kind="announce", at=clock(), not_before=clock(),
            messages=[Planned(p, Outbound("Họp dân.")) for p in (pid, world.head_id)])
        await conn.execute("UPDATE outbox SET not_before = ? WHERE person_id = ?",
                           ("2026-12-02T08:00:00+00:00", world.head_id))
    await dispatcher.drain()
    clock.set_local("2026-12-02 09:29")
    await dispatcher.maintain()
    await dispatcher.drain()
    assert texts(api, 200) == []  # the others of the campaign may still come
    clock.set_local("2026-12-02 09:31")
    await dispatcher.maintain()
    await dispatcher.drain()
    [alert] = texts(api, 200)
    assert "• Người 00 (Bản Pa Ủ): đã chặn bot trên Telegram." in alert


async def test_passing_failures_are_retried_with_back_off_then_given_up(
        db, cfg, clock, world, on_telegram, api, planner, dispatcher):
    await running_since(db, clock, "2026-12-01 12:00")
    clock.set_local("2026-12-02 08:00")
    await planner.tick()
    api.intercept = lambda call: (api.error(call, 502, "Bad Gateway")
                                  if call.method == "sendMessage" and call.chat_id == 400
                                  else None)
    waits = []
    for _ in range(cfg.outbox.max_attempts):
        await dispatcher.drain()
        async with db.read() as conn:
            row = next(r for r in await outbox.outbox_rows(conn) if r["full_name"] == "Pờ Văn Sứ")
        if row["state"] != "pending":
            break
        due = datetime.fromisoformat(row["not_before"])
        waits.append(round((due - clock()).total_seconds()))
        clock.now = due
    assert waits == [5, 10, 20, 40, 80]  # doubling from outbox.retry_base_seconds
    assert row["state"] == "failed" and row["attempts"] == cfg.outbox.max_attempts
    assert len([c for c in api.calls_to("sendMessage") if c.chat_id == 400]) == 6
    assert len(texts(api, 100)) == 1  # others were not held up


async def test_graceful_stop_lets_messages_in_flight_finish(
        db, cfg, clock, world, on_telegram, api, planner, bot):
    chats = await _plan_many(db, clock, world, 6)
    await running_since(db, clock, "2026-12-01 12:00")
    clock.set_local("2026-12-02 08:00")
    await planner.tick()
    slow = replace(cfg, telegram=replace(cfg.telegram, overall_max_rate=20),
                   outbox=replace(cfg.outbox, concurrency=4))
    dispatcher = Dispatcher(db, slow, {"telegram": TelegramSender(bot, slow)}, clock)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    for _ in range(500):
        if len(api.sent()) >= 2:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 5)
    async with db.read() as conn:
        states = [r["state"] for r in await outbox.outbox_rows(conn)]
    assert "sending" not in states  # what was claimed was sent before the stop
    assert states.count("sent") == len(api.sent()) < len(chats) + 2


# ---- announcements ------------------------------------------------------------------------


@pytest.fixture
def chat(db, cfg, clock):
    core = Core(db, cfg, clock)
    return lambda sender: Chat(core, sender)


async def test_an_officer_announces_to_their_commune_and_hears_when_it_is_done(
        db, cfg, clock, world, on_telegram, api, dispatcher, chat):
    officer = chat("200")
    reply = await officer.send("/thongbao")
    assert "Nội dung thông báo gửi tới mọi người ở Xã Mường Tè?" in reply
    reply = await officer.send("Họp dân bình xét hộ nghèo lúc 8 giờ sáng thứ Hai.")
    assert "Xem trước thông báo:\n\nHọp dân bình xét hộ nghèo lúc 8 giờ sáng thứ Hai." in reply
    assert "Sẽ gửi tới 1 người ở Xã Mường Tè" in reply
    await dispatcher.drain()
    assert api.sent() == []  # nothing before it is confirmed
    reply = await officer.press("Gửi")
    assert "Đang gửi thông báo tới 1 người ở Xã Mường Tè" in reply
    again = await officer.press_data(officer.last[-1].options[0].data)  # a double tap
    assert "Đang gửi" not in again
    await dispatcher.drain()  # the announcement, then the report to the officer
    assert texts(api, 100) == ["📣 Thông báo từ Nguyễn Thị Hoa (Xã Mường Tè):\n"
                               "Họp dân bình xét hộ nghèo lúc 8 giờ sáng thứ Hai."]
    assert texts(api, 200) == ["✅ Đã gửi xong thông báo «Họp dân bình xét hộ nghèo lúc 8 giờ…»"
                               " tới Xã Mường Tè: 1/1 người nhận được."]
    assert texts(api, 300) == texts(api, 400) == []  # outside the commune: not bothered
    async with db.read() as conn:
        audit = await fetch_all(conn, "SELECT actor_person_id, action FROM audit_log"
                                " WHERE entity = 'campaign'")
    assert [tuple(r) for r in audit] == [(world.officer_id, "announce")]


async def test_an_announcement_outside_ones_area_is_refused_without_a_hint(
        db, cfg, clock, world, on_telegram, chat):
    officer = chat("200")
    outside = await officer.send("/thongbao Bum Nưa")  # exists, in another commune
    nowhere = await officer.send("/thongbao Xã Không Có")
    assert outside == "Không tìm thấy địa bàn «Bum Nưa» trong phạm vi của bạn. " \
        "Vui lòng gõ lại tên xã hoặc thôn."
    assert nowhere.replace("Xã Không Có", "Bum Nưa") == outside
    head = chat("100")
    assert "Chỉ cán bộ" in await head.send("/thongbao")
    province = chat("300")
    assert "Bản Nậm Củm" in await province.send("/thongbao nam cum")  # in scope, no diacritics
    await province.send("/huy")
    nobody = await chat("400").send("/thongbao")  # a head: no
    assert "Chỉ cán bộ" in nobody


async def test_an_announcement_is_sent_on_a_typed_yes_and_not_on_a_no(
        db, cfg, clock, world, on_telegram, api, dispatcher, chat):
    officer = chat("200")
    await officer.send("/thongbao")
    await officer.send("Họp dân lúc 8 giờ.")
    reply = await officer.send("khong")
    assert "Thông báo chưa được gửi" in reply and "Gửi ngay?" in reply
    reply = await officer.send("có")
    assert "Đang gửi thông báo tới 1 người ở Xã Mường Tè" in reply
    await dispatcher.drain()
    assert texts(api, 100) == ["📣 Thông báo từ Nguyễn Thị Hoa (Xã Mường Tè):\nHọp dân lúc 8 giờ."]


async def test_announcement_areas_are_searched_in_scope_and_paged_never_cut(
        db, cfg, clock, world, on_telegram, chat):
    async with db.write() as conn:
        for i in range(60):  # outside the officer's commune: must not crowd out their own
            await areas.add_area(conn, parent=world.other_commune, level="village",
                                 name=f"Thôn Mới {i:02d}", actor=SETUP, at=clock())
        for i in range(25):
            await areas.add_area(conn, parent=world.commune, level="village",
                                 name=f"Thôn Mới Tè {i:02d}", actor=SETUP, at=clock())
    officer = chat("200")
    reply = await officer.send("/thongbao thon moi")
    assert "Có 25 địa bàn khớp «thon moi»; đây là 1–10" in reply
    assert any("Xem thêm (còn 15)" in o for o in officer.options())
    await officer.press("Xem thêm")
    await officer.press("Xem thêm")
    names = [o for o in officer.options() if o.startswith("Thôn")]
    assert names[-1] == "Thôn Mới Tè 24" and not any("Xem thêm" in o for o in officer.options())
    reply = await officer.press("Thôn Mới Tè 24")
    assert "Nội dung thông báo gửi tới mọi người ở Thôn Mới Tè 24?" in reply


async def test_an_announcement_at_night_waits_and_big_ones_report_progress(
        db, cfg, clock, world, on_telegram, api, bot, chat):
    chats = await _plan_many(db, clock, world, 24)
    cfg = replace(cfg, outbox=replace(cfg.outbox, progress_min_recipients=20,
                                      progress_every_seconds=60))
    dispatcher = Dispatcher(db, cfg, {"telegram": TelegramSender(bot, cfg)}, clock)
    clock.set_local("2026-12-01 22:00")
    province = Chat(Core(db, cfg, clock), "300")
    await province.send("/thongbao")
    reply = await province.send("Mời các thôn gửi báo cáo năm trước ngày 20/12.")
    assert "Sẽ gửi tới 27 người ở Tỉnh Lai Châu" in reply
    assert "giờ nghỉ, thông báo sẽ được gửi từ 07:00" in reply
    assert "sẽ được gửi lúc 07:00 02/12" in await province.press("Gửi")
    await dispatcher.drain()
    assert api.sent() == []
    clock.set_local("2026-12-02 07:00")
    refused = {chats[0], chats[1]}
    api.intercept = lambda call: (api.error(call, 502, "Bad Gateway")
                                  if call.method == "sendMessage" and call.chat_id in refused
                                  else None)
    await dispatcher.drain()
    clock.advance(seconds=61)
    await dispatcher.maintain()
    await dispatcher.drain()  # the retries are not due yet; the progress report is
    assert texts(api, 300) == ["📣 Thông báo «Mời các thôn gửi báo cáo năm trước…» tới "
                               "Tỉnh Lai Châu: đã gửi 25/27 người, đang gửi tiếp…"]
    api.intercept = None
    clock.advance(seconds=10)
    await dispatcher.drain()
    await dispatcher.drain()
    assert texts(api, 300)[-1].startswith("✅ Đã gửi xong thông báo «Mời các thôn gửi báo")
    assert texts(api, 300)[-1].endswith("27/27 người nhận được.")
    assert len({c.chat_id for c in api.sent()}) == 28


# ---- /lich --------------------------------------------------------------------------------


async def test_lich_shows_a_village_head_what_is_due(db, cfg, clock, world, chat):
    clock.set_local("2026-12-01 09:00")
    head = chat("100")
    reply = await head.send("lich")
    assert "📅 Lịch báo cáo — Bản Nà Khan" in reply
    assert "• Báo cáo tháng: hạn ngày 5 tháng sau" in reply
    assert "xã (kèm hồ sơ đề nghị khen thưởng) hạn 30/12" in reply
    assert "⏳ Báo cáo tháng 11/2026 — Bản Nà Khan: chưa gửi (hạn 05/12/2026, còn 4 ngày)." \
        in reply
    assert "⏳ Báo cáo tổng kết năm 2026 — Bản Nà Khan: chưa gửi (hạn 20/11/2026, đã quá hạn " \
        "11 ngày)." in reply
    assert "📝 Báo cáo ngay: Báo cáo tháng 11/2026" in head.options()
    await file_monthly(db, world.village, "2026-11", clock)
    reply = await head.send("/lich")
    assert "✅ Báo cáo tháng 11/2026 — Bản Nà Khan: đã gửi." in reply
    reply = await head.press("Báo cáo ngay: Báo cáo tổng kết")
    assert "năm 2026" in reply


async def test_lich_shows_officers_who_has_filed(db, cfg, clock, world, chat):
    clock.set_local("2026-12-01 09:00")
    await file_monthly(db, world.village, "2026-11", clock)
    reply = await chat("200").send("/lich")
    assert "⏳ Báo cáo tổng kết năm 2026 — Xã Mường Tè: chưa gửi (hạn 30/12/2026, còn 29 " \
        "ngày)." in reply
    assert "📊 Báo cáo tháng 11/2026 của các thôn (hạn 05/12/2026) — Xã Mường Tè: 1/2 thôn " \
        "đã gửi.\n" \
        "Chưa gửi:\n• Bản Pa Ủ" in reply
    reply = await chat("300").send("/lich")
    assert "📊 Báo cáo tháng 11/2026 của các thôn (hạn 05/12/2026) — Tỉnh Lai Châu: 1/3 thôn " \
        "đã gửi." in reply
    assert "• Xã Mường Tè: 1/2" in reply and "• Xã Bum Nưa: 0/1" in reply
    assert "📊 Báo cáo tổng kết năm 2026 của các xã (hạn 30/12/2026) — Tỉnh Lai Châu: 0/2 xã " \
        "đã gửi." in reply
    assert "• Xã Bum Nưa (chưa có cán bộ xã dùng bot)\n• Xã Mường Tè (cán bộ: Nguyễn Thị Hoa)" \
        in reply  # the communes' own report: whom to call


async def test_lich_says_whose_report_every_line_is(db, cfg, clock, world, chat):
    """The province in December: the villages' yearly report (due 20/11) and the communes'
    (due 30/12) are two reports of the same name; every line says whose it is."""
    clock.set_local("2026-12-03 09:00")
    reply = await chat("300").send("/lich")
    heads = [line.split(" (hạn ")[0] for line in reply.splitlines() if line.startswith("📊")]
    assert heads == ["📊 Báo cáo tổng kết năm 2026 của các thôn",
                     "📊 Báo cáo tháng 11/2026 của các thôn",
                     "📊 Báo cáo tổng kết năm 2026 của các xã"]
    assert "— Tỉnh Lai Châu: 0/3 thôn đã gửi." in reply  # and what is counted
    assert "— Tỉnh Lai Châu: 0/2 xã đã gửi." in reply


async def test_the_communes_yearly_reminder_opens_the_communes_report(
        db, cfg, clock, world, on_telegram, api, planner, dispatcher, chat):
    await running_since(db, clock, "2026-12-19 12:00")
    clock.set_local("2026-12-20 08:00")  # ten days before the communes' 30 December
    await planner.tick()
    await dispatcher.drain()
    [reminder] = api.sent(200)
    assert reminder.text.startswith("⏰ Nhắc việc: Báo cáo tổng kết năm 2026 của Xã Mường Tè "
                                    "(cấp xã) chưa được gửi (hạn 30/12/2026, còn 10 ngày).")
    [button] = reminder.buttons
    assert button["callback_data"] == "cmd:yearly 2026 Xã Mường Tè"
    reply = await chat("200").press_data(button["callback_data"])
    assert "năm 2026 — Xã Mường Tè" in reply


async def test_an_announcement_to_an_area_where_nobody_uses_the_bot_is_not_planned(
        db, cfg, clock, world, on_telegram, chat):
    province = chat("300")
    assert "Nội dung thông báo gửi tới mọi người ở Bản Pa Ủ?" in await province.send(
        "/thongbao pa u")
    reply = await province.send("Họp dân.")
    assert reply.startswith("Ở Bản Pa Ủ chưa có ai khác dùng bot để nhận thông báo.")
    async with db.read() as conn:
        assert await outbox.recent_campaigns(conn) == []


# ---- long late lists, and «Nhắc lại» (closing the loop with the village heads) ------------


async def _big_commune(db, clock, world, villages: int = 60) -> list[int]:
    """Xã Mường Tè grows to ``villages`` + 2 villages, every other one with a head on
    Telegram (chat 7000 + i); returns those chats."""
    from storage import areas

    chats = []
    async with db.write() as conn:
        for i in range(villages):
            area = await areas.add_area(conn, parent=world.commune, level="village",
                                        name=f"Thôn {i:02d}", actor=SETUP, at=clock())
            if i % 2:
                continue
            pid = await people.create_person(conn, f"Trưởng thôn {i:02d}", actor=SETUP,
                                             at=clock())
            await people.link_identity(conn, pid, channel="telegram", external_id=str(7000 + i),
                                       chat_id=str(7000 + i), display_name="", actor=SETUP,
                                       at=clock())
            await people.grant_role(conn, pid, "village_head", area, actor=SETUP, at=clock())
            chats.append(7000 + i)
    return chats


async def test_lich_never_cuts_the_late_list_silently(db, cfg, clock, world, chat):
    await _big_commune(db, clock, world)
    clock.set_local("2026-12-03 09:00")
    await file_monthly(db, world.village, "2026-11", clock)
    officer = chat("200")
    reply = await officer.send("/lich")
    assert "Xã Mường Tè: 1/62 thôn đã gửi." in reply
    block = reply[reply.index("Báo cáo tháng 11/2026 của các thôn (hạn 05/12/2026) — Xã Mường"):]
    assert block.count("\n• ") == 40 and "… và 21 thôn khác" in block
    assert "Thôn 00 (trưởng thôn: Trưởng thôn 00)" in block  # who to call
    assert "Thôn 01 (chưa có trưởng thôn dùng bot)" in block
    assert officer.options()[-2:] == [
        "🔁 Nhắc lại 61 thôn chưa gửi — Báo cáo tháng 11/2026",
        "📋 Xem đủ 61 thôn chưa gửi — Báo cáo tháng 11/2026"]
    assert not officer.last[-1].free_input  # one numbered list on Zalo and the console
    whole = await officer.press("Xem đủ 61 thôn chưa gửi — Báo cáo tháng")
    assert whole.startswith("📋 Báo cáo tháng 11/2026 của các thôn (hạn 05/12/2026) — Xã Mường "
                            "Tè: 61/62 thôn chưa gửi:")
    assert whole.count("\n• ") == 61 and "khác" not in whole
    assert "• Thôn 59 (chưa có trưởng thôn dùng bot)" in whole
    assert officer.options() == ["🔁 Nhắc lại 61 thôn chưa gửi"]
    # Nobody sees more than their area: a forged button for the other commune shows nothing.
    forged = f"cmd:calendar monthly_village 2026-11 village {world.other_commune.id}"
    assert "Bản Nậm Củm" not in await officer.press_data(forged)
    assert "Bản Nậm Củm" not in await chat("100").press_data(forged)


async def test_the_late_list_at_d_plus_2_names_the_heads_and_offers_the_rest(
        db, cfg, clock, world, on_telegram, api, planner, dispatcher):
    await _big_commune(db, clock, world)
    await running_since(db, clock, "2026-12-06 12:00")
    clock.set_local("2026-12-07 08:00")
    await planner.tick()
    await dispatcher.drain()
    [late] = api.sent(200)
    assert "còn 62/62 thôn chưa gửi" in late.text and "… và 22 thôn khác" in late.text
    assert "Bản Nà Khan (trưởng thôn: Lò Văn Páo)" in late.text
    assert late.buttons == [
        {"text": "🔁 Nhắc lại 62 thôn chưa gửi",
         "callback_data": f"cmd:remind monthly_village 2026-11 village {world.commune.id}"},
        {"text": "📋 Xem đủ 62 thôn chưa gửi",
         "callback_data": f"cmd:calendar monthly_village 2026-11 village {world.commune.id}"}]


async def test_remind_again_reaches_the_late_heads_once_and_reports_back(
        db, cfg, clock, world, on_telegram, api, planner, dispatcher, chat):
    chats = await _big_commune(db, clock, world, villages=4)  # heads on 7000 and 7002
    await file_monthly(db, world.village, "2026-11", clock)  # Bản Nà Khan (100) has filed
    await running_since(db, clock, "2026-12-06 12:00")
    clock.set_local("2026-12-07 08:00")  # D+2: the reminder and the late list
    await planner.tick()
    await dispatcher.drain()
    [late] = api.sent(200)
    button = late.buttons[0]["callback_data"]
    mark = len(api.calls)

    officer = chat("200")
    clock.set_local("2026-12-07 08:30")  # the heads were reminded at 08:00: not again yet
    reply = await officer.press_data(button)
    assert reply.startswith("Chưa gửi thêm lời nhắc Báo cáo tháng 11/2026")
    assert "• Trưởng thôn 00: lúc 08:00 (bot nhắc theo lịch)" in reply
    assert "Bản Pa Ủ" in reply and "Thôn 01" in reply  # nobody to remind there: call them
    await dispatcher.drain()
    assert api.sent(since=mark) == []

    clock.set_local("2026-12-07 10:00")
    reply = await officer.press_data(button)
    assert reply.startswith("✅ Đang nhắc lại Báo cáo tháng 11/2026 của các thôn tới 2 người "
                            "(Thôn 00, Thôn 02). Bot sẽ báo lại khi gửi xong.")
    again = await officer.press_data(button)  # a second tap: nobody twice
    assert "• Trưởng thôn 00: lúc 10:00 (Nguyễn Thị Hoa nhắc)" in again
    await dispatcher.drain()
    await dispatcher.drain()
    for head in chats:
        [reminder] = texts(api, head, since=mark)
        assert reminder.startswith("⏰ Nguyễn Thị Hoa nhắc: Báo cáo tháng 11/2026 của Thôn 0")
        assert "đã quá hạn 2 ngày" in reminder
    assert texts(api, 100, since=mark) == []  # filed: not bothered
    assert texts(api, 200, since=mark) == [
        "✅ Đã nhắc lại Báo cáo tháng 11/2026 — Xã Mường Tè: 2/2 người nhận được lời nhắc."]
    async with db.read() as conn:
        [campaign] = [c for c in await outbox.recent_campaigns(conn) if c.kind == "remind_again"]
        log = await fetch_all(conn, "SELECT actor_person_id, action, entity_id FROM audit_log"
                              " WHERE action = 'remind_again'")
    assert campaign.requested_by == world.officer_id and campaign.area_id == world.commune.id
    assert [tuple(r) for r in log] == [(world.officer_id, "remind_again", str(campaign.id))]


async def test_remind_again_at_night_waits_for_the_morning_and_stays_in_the_area(
        db, cfg, clock, world, on_telegram, api, dispatcher, chat):
    clock.set_local("2026-12-03 22:15")
    officer = chat("200")
    reply = await officer.send("/lich")
    assert "Bản Nà Khan (trưởng thôn: Lò Văn Páo)" in reply
    reply = await officer.send("/nhaclai")
    assert "Nhắc lại báo cáo nào?" in reply  # the monthly and the yearly report are late
    reply = await officer.send("1")
    assert "giờ nghỉ" in reply and "lúc 07:00 04/12" in reply
    await dispatcher.drain()
    assert api.sent() == []
    clock.set_local("2026-12-04 07:00")
    await dispatcher.drain()
    assert len(texts(api, 100)) == 1 and texts(api, 400) == []  # not the other commune
    # Village heads may not; a forged button for another commune reminds nobody.
    assert "Chỉ cán bộ" in await chat("100").send("/nhaclai")
    forged = f"cmd:remind monthly_village 2026-11 village {world.other_commune.id}"
    assert "Không tìm thấy" in await officer.press_data(forged)
    await dispatcher.drain()
    assert texts(api, 400) == []


# ---- nothing lands in the middle of a dialog -----------------------------------------------


async def test_a_reminder_waits_until_the_form_is_done_then_is_dropped_as_filed(
        db, cfg, clock, world, on_telegram, api, planner, dispatcher):
    head = Chat(Core(db, cfg, clock), "100", channel="telegram")
    await running_since(db, clock, "2026-12-01 12:00")
    clock.set_local("2026-12-02 07:58")
    assert "(1/10)" in await head.send("/baocao")
    assert "(2/10)" in await head.send("120")  # between questions 2 and 3 at 08:00
    clock.set_local("2026-12-02 08:00")
    await planner.tick()
    await dispatcher.drain()
    assert texts(api, 100) == [] and len(texts(api, 400)) == 1  # held; the others go
    clock.set_local("2026-12-02 08:20")  # still answering: still held
    await dispatcher.drain()
    assert texts(api, 100) == []
    for answer in ("15", "8", "0", "1", "0", "3", "10", "5tr", "bo qua"):
        await head.send(answer)
    assert "Đã lưu" in await head.send("gui")
    await dispatcher.drain()
    assert texts(api, 100) == []  # the report it was about came in: never sent
    async with db.read() as conn:
        states = {r["full_name"]: r["state"] for r in await outbox.outbox_rows(conn)}
    assert states["Lò Văn Páo"] == "skipped"


async def test_an_announcement_held_by_a_dialog_goes_right_after_it(
        db, cfg, clock, world, on_telegram, api, dispatcher, chat):
    head = Chat(Core(db, cfg, clock), "100", channel="telegram")
    await head.send("/baocao")
    officer = chat("200")
    await officer.send("/thongbao")
    await officer.send("Họp dân lúc 8 giờ.")
    await officer.press("Gửi")
    await dispatcher.drain()
    assert texts(api, 100) == []
    reply = await head.send("/huy")  # the dialog ends: what waited goes at once
    assert "Đã hủy" in reply
    await dispatcher.drain()
    assert texts(api, 100) == ["📣 Thông báo từ Nguyễn Thị Hoa (Xã Mường Tè):\nHọp dân lúc 8 giờ."]


async def test_a_dialog_left_unanswered_holds_nothing_for_ever(
        db, cfg, clock, world, on_telegram, api, planner, dispatcher):
    head = Chat(Core(db, cfg, clock), "100", channel="telegram")
    await running_since(db, clock, "2026-12-01 12:00")
    clock.set_local("2026-12-02 07:50")
    await head.send("/baocao")
    clock.set_local("2026-12-02 08:00")
    await planner.tick()
    await dispatcher.drain()
    assert texts(api, 100) == []
    clock.set_local("2026-12-02 08:19")
    await dispatcher.drain()
    assert texts(api, 100) == []
    clock.set_local("2026-12-02 08:20")  # dialog_hold_minutes (30) after the last answer
    await dispatcher.drain()
    [reminder] = texts(api, 100)
    assert reminder.startswith("⏰ Nhắc việc: Báo cáo tháng 11/2026 của Bản Nà Khan")


async def test_the_late_lists_buttons_are_answered_by_number_where_there_are_none(
        db, cfg, clock, world, planner):
    """On the console (and Zalo) the late list's buttons are a numbered list; «1» reminds."""
    from bot.channels.console import ConsoleSender
    from bot.channels.plain import options_text

    await _big_commune(db, clock, world)
    async with db.write() as conn:
        await conn.execute("DELETE FROM identities WHERE person_id = ?", (world.officer_id,))
        await people.link_identity(conn, world.officer_id, channel="console",
                                   external_id="hoa", chat_id="hoa", display_name="Hoa",
                                   actor=SETUP, at=clock())
    sender = ConsoleSender()
    dispatcher = Dispatcher(db, cfg, {"console": sender, "telegram": ConsoleSender()}, clock)
    await running_since(db, clock, "2026-12-06 12:00")
    clock.set_local("2026-12-07 08:00")
    await planner.tick()
    await dispatcher.drain()
    [late] = [m for c, m in sender.delivered if c == "hoa" and m.text.startswith("📋")]
    assert options_text(late) == "1. 🔁 Nhắc lại 62 thôn chưa gửi\n2. 📋 Xem đủ 62 thôn chưa gửi"
    officer = Chat(Core(db, cfg, clock), "hoa", channel="console")
    assert (await officer.send("2")).count("\n• ") == 62  # the whole list, and its button
    clock.set_local("2026-12-07 10:00")
    reply = await officer.send("1")
    assert reply.startswith("✅ Đang nhắc lại Báo cáo tháng 11/2026 của các thôn tới")


async def test_the_report_of_a_broadcast_names_everyone_it_missed(
        db, cfg, clock, world, on_telegram, api, dispatcher, chat):
    chats = await _plan_many(db, clock, world, 14)
    refused = set(chats[:12])
    api.intercept = lambda call: (api.error(call, 400, "Bad Request: chat not found")
                                  if call.method == "sendMessage" and call.chat_id in refused
                                  else None)
    officer = chat("200")
    await officer.send("/thongbao")
    await officer.send("Họp dân.")
    await officer.press("Gửi")
    await dispatcher.drain()
    await dispatcher.drain()
    [report] = [text for text in texts(api, 200) if text.startswith("✅ Đã gửi xong")]
    assert "⚠️ 12 người không nhận được" in report
    assert all(f"Người {i:02d}" in report for i in range(12))  # not cut at ten


async def test_a_list_or_a_card_holds_nothing_back_only_work_under_way_does(
        db, cfg, clock, world, on_telegram, api, dispatcher, chat):
    head = Chat(Core(db, cfg, clock), "100", channel="telegram")
    officer = chat("200")

    async def announce(text: str) -> list[str]:
        mark = len(api.calls)
        await officer.send("/thongbao")
        await officer.send(text)
        await officer.press("Gửi")
        await dispatcher.drain()
        return texts(api, 100, since=mark)

    assert "Tìm hộ" in await head.send("/ho")  # a search: another command simply ends it
    assert len(await announce("Họp dân lúc 8 giờ.")) == 1
    await head.send("/baocao")  # a form under way: held
    assert await announce("Họp dân lúc 9 giờ.") == []
