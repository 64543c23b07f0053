"""The Zalo channel end to end: the bot's webhook and media server, the core and a real SQLite
database, against the fake Zalo Bot API server of ``tests/fake_zalo_api.py`` (127.0.0.1 only).

A person here is a Zalo user whose messages the fake posts to the bot's webhook the way Zalo
does; the test reads what the bot sent back through the fake's recorded calls.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
import time

import httpx
import pytest
from openpyxl import load_workbook
from telegram import Bot

from bot.channels import zalo as zl
from bot.channels.telegram import TelegramSender
from bot.channels.zalo import ZaloChannel
from common.config import ConfigError, replace
from common.delivery import OutsideWindow, Throttled, Transient
from common.messages import Outbound
from handlers.core import Core
from reports.charts import SIZE_PX
from scheduler.dispatcher import Dispatcher
from scheduler.planner import start_option
from storage import households as hh
from storage import inbox, outbox, people
from storage.outbox import Planned
from storage.reports import MONTHLY_FORM, current_report
from tests.conftest import SETUP
from tests.fake_bot_api import FakeBotApi
from tests.fake_zalo_api import (
    BOT_ID,
    DEFAULT_TOKEN,
    FakeZaloApi,
    docs_update,
    image_event,
    own_message_event,
    sticker_event,
    text_event,
    unsupported_event,
    voice_event,
)
from tests.test_dialog_households import add
from tests.test_stats import muong_te  # noqa: F401  (a fixture)

SECRET = "webhook-secret-for-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def api():
    async with FakeZaloApi() as server:
        yield server


@pytest.fixture
def zalo_config(config, api):
    port = free_port()
    zalo = replace(config.zalo, token=DEFAULT_TOKEN, webhook_secret=SECRET,
                   base_url=api.base_url, mode="webhook", listen_host="127.0.0.1",
                   listen_port=port, public_base_url=f"http://127.0.0.1:{port}",
                   max_rate=1000, per_chat_interval=0)
    return replace(config, zalo=zalo, stats=replace(config.stats, chart_workers=0))


@pytest.fixture
async def channel(zalo_config, db, clock, world):
    core = Core(db, zalo_config, clock)
    zalo = ZaloChannel(zalo_config, core, db)
    await zalo.start()
    yield zalo
    await zalo.stop()
    core.close()


def ms(clock) -> int:
    return int(clock().timestamp() * 1000)


class ZaloUser:
    """Someone chatting with the bot on Zalo."""

    def __init__(self, channel: ZaloChannel, api: FakeZaloApi, clock, user_id: str,
                 name: str = "Lò Văn Páo"):
        self.channel, self.api, self.clock = channel, api, clock
        self.user_id, self.name = user_id, name

    async def post(self, event: dict, **kwargs) -> tuple[int, str]:
        status, body = await self.api.post_webhook(event, **kwargs)
        await self.channel.drain()
        return status, body

    async def send(self, text: str, **kwargs) -> str:
        mark = len(self.api.calls)
        status, _ = await self.post(text_event(text, user_id=self.user_id,
                                               display_name=self.name,
                                               date_ms=ms(self.clock)), **kwargs)
        assert status == 200
        return self.since(mark)

    def since(self, mark: int) -> str:
        return "\n".join(c.text for c in self.api.calls[mark:]
                         if c.method == "sendMessage" and c.ok
                         and c.params.get("chat_id") == self.user_id)


async def on_zalo(db, clock, person_id: int, user_id: str) -> None:
    async with db.write() as conn:
        await on_zalo_conn(conn, person_id, user_id, clock)


async def on_zalo_conn(conn, person_id: int, user_id: str, clock) -> None:
    await people.link_identity(conn, person_id, channel="zalo", external_id=user_id,
                               chat_id=user_id, display_name="", actor=SETUP, at=clock())


# ---- dialogs ----------------------------------------------------------------------------------


async def test_webhook_is_registered_with_its_secret(channel, api):
    assert api.webhook_url == f"{channel.zalo.public_base_url}/zalo/webhook"
    assert api.webhook_secret == SECRET


async def test_a_village_head_files_the_monthly_report_on_zalo(channel, api, db, world, clock):
    await on_zalo(db, clock, world.head_id, "z100")
    head = ZaloUser(channel, api, clock, "z100")
    reply = await head.send("menu")
    assert "1. 📝 Báo cáo tháng" in reply or "Báo cáo tháng" in reply
    reply = await head.send("bao cao thang")  # a label typed without diacritics
    assert "tháng 10/2026" in reply and "(1/10) Tổng số hộ" in reply
    assert "[" in reply  # the shortcuts, written out since Zalo has no buttons
    for text in ("120", "15", "8", "0", "1", "0", "3", "10", "5tr"):
        await head.send(text)
    reply = await head.send("bo qua")
    assert "1. Tổng số hộ: 120" in reply and "Gửi" in reply
    reply = await head.send("gui")
    assert "Đã lưu báo cáo tháng 10/2026 của Bản Nà Khan" in reply
    async with db.read() as conn:
        report = await current_report(conn, world.village.id, MONTHLY_FORM, "2026-10")
    assert report.data["total"] == 120 and report.data["support_vnd"] == 5_000_000
    assert report.submitted_via == "zalo"
    async with db.read() as conn:
        assert await inbox.waiting(conn, "zalo") == []  # every event processed


async def test_the_menu_is_a_numbered_list_answered_by_number(channel, api, db, world, clock):
    await on_zalo(db, clock, world.head_id, "z100")
    head = ZaloUser(channel, api, clock, "z100")
    reply = await head.send("/huy")
    assert "1. 📝 Báo cáo tháng\n2. 🏠 Hộ gia đình" in reply
    assert "(1/10) Tổng số hộ" in await head.send("1")
    await head.send("/huy")
    assert "Tìm hộ" in await head.send("2")
    await head.send("/huy")
    reply = await head.send("9")  # no such entry: not understood, the menu again
    assert "chưa hiểu" in reply and "1. 📝 Báo cáo tháng" in reply


async def test_an_exit_registration_on_zalo(channel, api, db, world, clock):
    await add(db, clock, world.village, "NK-005", "Giàng A Lử")
    await on_zalo(db, clock, world.head_id, "z100")
    head = ZaloUser(channel, api, clock, "z100")
    await head.send("/dangky")
    reply = await head.send("NK-005")
    assert "(1/5) Hộ đăng ký thoát nghèo trong năm nào" in reply
    await head.send("2026")
    await head.send("chan nuoi")
    await head.send("Nuôi 2 con bò sinh sản")
    await head.send("vay von")
    await head.send("xong")
    reply = await head.send("hom nay")
    assert "4. Hỗ trợ đề nghị: Vay vốn" in reply
    reply = await head.send("gui")
    assert "Đã ghi nhận hộ đăng ký thoát nghèo năm 2026" in reply
    async with db.read() as conn:
        registrations = await hh.registrations(conn, village_id=world.village.id)
    assert [(r.household_code, r.target_year, r.plan_text) for r in registrations] == [
        ("NK-005", 2026, "Nuôi 2 con bò sinh sản")]


async def test_an_officer_gets_a_chart_and_a_spreadsheet_by_link(
        channel, api, db, world, clock, muong_te):  # noqa: F811
    await on_zalo(db, clock, world.officer_id, "z200")
    officer = ZaloUser(channel, api, clock, "z200", "Nguyễn Thị Hoa")
    reply = await officer.send("/thongke")
    assert "📊 Xã Mường Tè — tháng 10/2026" in reply and "• Hộ nghèo: 26 (12,94 %)" in reply
    assert "Tỷ lệ nghèo theo tháng" in reply
    await officer.send("Tỷ lệ nghèo theo tháng")
    [photo] = api.photos("z200")
    assert photo.params["photo"].startswith(channel.zalo.public_base_url + "/media/")
    assert photo.photo_content_type == "image/png"
    assert photo.photo_bytes.startswith(b"\x89PNG")
    width, height = int.from_bytes(photo.photo_bytes[16:20]), \
        int.from_bytes(photo.photo_bytes[20:24])
    assert (width, height) == SIZE_PX
    assert "Xã Mường Tè" in photo.params["caption"]

    reply = await officer.send("Excel số liệu tháng")
    link = next(word for word in reply.split() if word.startswith("http"))
    async with httpx.AsyncClient() as client:
        response = await client.get(link)
        assert response.status_code == 200
        book = load_workbook(io.BytesIO(response.content))
        cells = [c.value for row in book.active.iter_rows() for c in row]
        assert "Bản Nà Khan" in cells and 121 in cells
        assert "attachment" in response.headers["content-disposition"]
        # unguessable: another token is not found; expired: gone
        assert (await client.get(link.rsplit("/", 2)[0] + "/x" * 2)).status_code == 404
        clock.advance(minutes=channel.zalo.media_ttl_minutes + 1)
        assert (await client.get(link)).status_code == 404


async def test_a_link_opens_its_own_file_only(channel, api, db, world, clock):
    """A link is its token and its file name: the right token with another name answers
    exactly as an unknown token does."""
    await channel.send("z1", Outbound("Biểu đồ", image=b"\x89PNG\r\n\x1a\n" + b"\x00" * 64))
    link = api.photos("z1")[0].params["photo"]
    base, token, name = link.rsplit("/", 2)
    async with httpx.AsyncClient() as client:
        assert (await client.get(link)).status_code == 200
        other_name = await client.get(f"{base}/{token}/danh-sach-ho.xlsx")
        unknown = await client.get(f"{base}/{'A' * len(token)}/{name}")
    assert other_name.status_code == unknown.status_code == 404
    assert other_name.content == unknown.content
    assert other_name.headers.get("content-type") == unknown.headers.get("content-type")


async def household_list_link(channel, api, db, world, clock) -> str:
    """The commune officer asks for the household list on Zalo; the link in the answer."""
    await add(db, clock, world.village, "NK-001", "Lò Văn Sơn")
    await on_zalo(db, clock, world.officer_id, "z200")
    officer = ZaloUser(channel, api, clock, "z200", "Nguyễn Thị Hoa")
    await officer.send("/thongke")
    reply = await officer.send("Danh sách hộ")
    minutes = channel.zalo.personal_media_ttl_minutes
    assert f"chỉ tải được một lần, trong vòng {minutes} phút" in reply
    assert "thông tin cá nhân" in reply
    return next(word for word in reply.split() if word.startswith("http"))


async def test_a_household_list_link_shows_a_page_then_downloads_for_a_minute(
        channel, api, db, world, clock):
    """Personal data (Decree 13/2023): a household list's link lives
    ``personal_media_ttl_minutes``, opens a page that says so (a link preview fetching the
    address takes nothing), and the file itself is gone a minute after it is downloaded (a
    phone's download may fetch it twice)."""
    link = await household_list_link(channel, api, db, world, clock)
    async with httpx.AsyncClient() as client:
        page = await client.get(link)
        assert page.status_code == 200 and page.headers["content-type"].startswith(
            "text/html")
        assert "no-store" in page.headers["cache-control"]
        assert "thông tin cá nhân" in page.text and "Tải tệp" in page.text
        assert (await client.get(link)).status_code == 200  # a page view is not a download
        download = link + "?tai=1"
        assert (await client.head(download)).status_code == 200  # HEAD takes nothing
        first = await client.get(download)
        assert first.status_code == 200 and "no-store" in first.headers["cache-control"]
        cells = [c.value for row in load_workbook(io.BytesIO(first.content)).active.iter_rows()
                 for c in row]
        assert "Lò Văn Sơn" in cells
        assert (await client.get(download)).status_code == 200  # the phone's second fetch
        clock.advance(seconds=61)
        assert (await client.get(download)).status_code == 404
        assert (await client.get(link)).status_code == 404
    async with db.read() as conn:
        left = await conn.execute_fetchall("SELECT count(*) FROM media WHERE expires_at > ?",
                                           (clock().isoformat(),))
    assert left[0][0] == 0


async def test_a_household_list_link_never_opened_expires_sooner(
        channel, api, db, world, clock):
    link = await household_list_link(channel, api, db, world, clock)
    clock.advance(minutes=channel.zalo.personal_media_ttl_minutes, seconds=1)
    async with httpx.AsyncClient() as client:
        assert (await client.get(link)).status_code == 404
        assert (await client.get(link + "?tai=1")).status_code == 404


# ---- bad input ----------------------------------------------------------------------------------


async def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_processed(
        channel, api, db, world, clock):
    await on_zalo(db, clock, world.head_id, "z100")
    head = ZaloUser(channel, api, clock, "z100")
    for secret in ("wrong-secret-value", None, SECRET[:-1]):
        status, _ = await head.post(text_event("/toi", user_id="z100"), secret=secret)
        assert status == 403
    assert api.sent_texts("z100") == []
    async with db.read() as conn:
        assert await inbox.waiting(conn, "zalo") == []
        seen = await conn.execute_fetchall("SELECT count(*) FROM inbound_seen")
    assert seen[0][0] == 0


@pytest.mark.parametrize("raw", [b"{not json", b"[]", b'{"event_name": 5}',
                                 b'{"ok": true, "result": {"event_name": "x"}}',
                                 b"{\"message\": {}}"])
async def test_a_body_that_is_not_an_event_gets_400(channel, api, raw):
    status, _ = await api.post_webhook(raw_body=raw)
    assert status == 400


@pytest.mark.parametrize("raw", [b"[" * 100_000 + b"]" * 100_000,
                                 b'{"event_name": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_001])
async def test_deeply_nested_json_gets_400_not_503(channel, api, db, raw):
    # A 503 is retried by Zalo for ever; a body nobody can read is the sender's fault (400).
    status, _ = await api.post_webhook(raw_body=raw)
    assert status == 400
    async with db.read() as conn:
        assert await inbox.waiting(conn, "zalo") == []


async def test_a_body_over_the_size_bound_is_refused(channel, api):
    status, _ = await api.post_webhook(raw_body=b'{"a": "' + b"x" * (2 << 20) + b'"}')
    assert status == 413


async def test_both_body_shapes_are_accepted_and_unknown_events_ignored(
        channel, api, db, world, clock):
    await on_zalo(db, clock, world.head_id, "z100")
    head = ZaloUser(channel, api, clock, "z100")
    mark = len(api.calls)
    for wrapped in (True, False):
        status, _ = await head.post(text_event("/toi", user_id="z100", date_ms=ms(clock)),
                                    wrapped=wrapped)
        assert status == 200
    assert head.since(mark).count("Bạn là Lò Văn Páo") == 2
    unknown = text_event("x", user_id="z100") | {"event_name": "message.reaction.received"}
    mark = len(api.calls)
    assert (await head.post(unknown))[0] == 200
    assert head.since(mark) == ""


@pytest.mark.parametrize("event", [image_event, sticker_event, voice_event, unsupported_event])
async def test_images_and_stickers_get_a_polite_answer_and_the_question_again(
        channel, api, db, world, clock, event):
    await on_zalo(db, clock, world.head_id, "z100")
    head = ZaloUser(channel, api, clock, "z100")
    await head.send("/baocao")
    mark = len(api.calls)
    await head.post(event(user_id="z100", date_ms=ms(clock)))
    reply = head.since(mark)
    assert "chỉ đọc được tin nhắn chữ" in reply and "(1/10) Tổng số hộ" in reply


async def test_a_photo_with_a_caption_is_read_as_its_caption(channel, api, db, world, clock):
    await on_zalo(db, clock, world.head_id, "z100")
    head = ZaloUser(channel, api, clock, "z100")
    mark = len(api.calls)
    await head.post(image_event(caption="/baocao 120 15 8 2 1 0 3 10 5tr", user_id="z100",
                                date_ms=ms(clock)))
    reply = head.since(mark)
    assert "không lưu ảnh" in reply and "Gửi báo cáo này?" in reply


async def test_a_redelivered_event_is_processed_once(channel, api, db, world, clock):
    await on_zalo(db, clock, world.head_id, "z100")
    head = ZaloUser(channel, api, clock, "z100")
    await head.send("/baocao")
    event = text_event("120", user_id="z100", date_ms=ms(clock))
    mark = len(api.calls)
    results = await asyncio.gather(*(api.post_webhook(event) for _ in range(3)))
    await channel.drain()
    assert [status for status, _ in results] == [200, 200, 200]
    assert head.since(mark).count("(2/10)") == 1
    assert (await head.post(event))[0] == 200  # again, later
    assert "(3/10)" in await head.send("15")  # the dialog moved on by one step only


async def test_a_long_reply_is_split_at_line_ends_within_2000_characters(channel, api):
    text = "\n".join(f"{n}. Thôn số {n}: đã gửi báo cáo tháng, 120 hộ, 15 hộ nghèo"
                     for n in range(120))
    await channel.send("z1", Outbound(text))
    pieces = api.sent_texts("z1")
    assert len(pieces) >= 3 and all(len(p) <= 2000 for p in pieces)
    assert "\n".join(pieces) == text


async def test_a_stranger_learns_nothing(channel, api, clock):
    stranger = ZaloUser(channel, api, clock, "z999", "Người lạ")
    reply = await stranger.send("/thongke")
    assert "chưa được đăng ký" in reply and "Mường Tè" not in reply


# ---- delivery -----------------------------------------------------------------------------------


async def test_refusals_of_zalo_become_delivery_errors(channel, api):
    api.fail("sendMessage", error_code=-201, description="User has not interacted with the bot")
    with pytest.raises(OutsideWindow):
        await channel.send("z1", Outbound("nhắc việc"))
    api.fail("sendMessage", error_code=429, description="Too many requests, retry after 0.1")
    await channel.send("z1", Outbound("nhắc việc"), wait_throttled=1)
    assert api.sent_texts("z1") == ["nhắc việc"]


@pytest.fixture
async def impatient(zalo_config, db, clock, world):
    """The Zalo channel with a short ``request_timeout`` (0.5 s)."""
    cfg = replace(zalo_config, zalo=replace(zalo_config.zalo, request_timeout=0.5))
    core = Core(db, cfg, clock)
    zalo = ZaloChannel(cfg, core, db)
    await zalo.start()
    yield zalo
    await zalo.stop()
    core.close()


async def test_a_send_zalo_never_answers_is_given_up_after_the_request_timeout(
        impatient, api):
    api.hang("sendMessage")
    started = time.monotonic()
    with pytest.raises(Transient, match="sendMessage"):
        await impatient.send("z1", Outbound("nhắc việc"))
    assert time.monotonic() - started < 2  # request_timeout 0.5 s, not for ever
    await impatient.send("z1", Outbound("nhắc việc"))  # the next call is not held up
    assert api.sent_texts("z1") == ["nhắc việc"]


async def test_a_hung_reply_holds_up_its_chat_only_until_the_request_timeout(
        impatient, api, db, world, clock):
    await on_zalo(db, clock, world.head_id, "z100")
    head = ZaloUser(impatient, api, clock, "z100")
    api.hang("sendMessage", chat_id="z100")
    started = time.monotonic()
    assert await head.send("/toi") == ""  # that reply never came
    assert "Bạn là Lò Văn Páo" in await head.send("/toi")  # the chat goes on
    assert time.monotonic() - started < 3


async def zalo_heads(db, clock, world, chats: list[str], key: str) -> None:
    """Village heads on Zalo only, one per chat, and an announcement to them all."""
    async with db.write() as conn:
        await conn.execute("DELETE FROM identities WHERE channel = 'test'")
        ids = []
        for chat in chats:
            pid = await people.create_person(conn, f"Người {chat}", actor=SETUP, at=clock())
            await on_zalo_conn(conn, pid, chat, clock)
            await people.grant_role(conn, pid, "village_head", world.village2, actor=SETUP,
                                    at=clock())
            ids.append(pid)
        await outbox.create_campaign(conn, key=key, kind="announce", at=clock(),
                                     not_before=clock(),
                                     messages=[Planned(p, Outbound("Họp dân.")) for p in ids])


async def test_hung_sends_do_not_hold_up_the_outbox_and_are_sent_again_later(
        impatient, api, db, world, clock, monkeypatch):
    """Zalo never answers two sends, which take both places of the outbox (concurrency 2):
    once a send has gone unanswered for ``dispatcher.SLOW_SEND`` it no longer holds its
    place, so the others go on; after ``request_timeout`` the two are given up and sent
    again under the outbox's rules (a back-off), each reaching its person once."""
    from scheduler import dispatcher as dispatching

    monkeypatch.setattr(dispatching, "SLOW_SEND", 0.1)
    chats = [f"z{n}" for n in range(6)]
    await zalo_heads(db, clock, world, chats, "t:hung")
    api.hang("sendMessage", chat_id="z0")
    api.hang("sendMessage", chat_id="z1")
    cfg = replace(impatient.config, outbox=replace(impatient.config.outbox, concurrency=2))
    dispatcher = Dispatcher(db, cfg, {"zalo": impatient.sender}, clock)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    started = time.monotonic()
    try:
        await api.wait_for("sendMessage", 4, timeout=0.45)  # answered: all but the two
        assert sorted(c.chat_id for c in api.calls_to("sendMessage") if c.ok) == chats[2:]
        while time.monotonic() - started < 3:  # request_timeout is 0.5 s
            async with db.read() as conn:
                rows = {r["full_name"]: r for r in await outbox.outbox_rows(conn)}
            if rows["Người z0"]["state"] == rows["Người z1"]["state"] == "pending":
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
    assert "Transient" in rows["Người z0"]["last_error"] and rows["Người z0"]["attempts"] == 1
    clock.advance(seconds=cfg.outbox.retry_base_seconds)
    await dispatcher.drain()
    assert sorted(c.chat_id for c in api.calls_to("sendMessage") if c.ok) == sorted(chats)


async def test_sends_under_way_when_the_bot_stops_are_not_sent_again_after_the_restart(
        impatient, api, db, world, clock):
    """The bot stops (SIGTERM) while Zalo is slow to answer one send (0.3 s, within the
    request timeout) and never answers another. The stop waits for both: the slow one is
    recorded as sent, so after the restart it does not go again; the hung one is given up
    at the time-out and goes again after the restart, once (Zalo cannot be asked whether a
    message arrived, so a send without an answer counts as not delivered)."""
    await zalo_heads(db, clock, world, ["z0", "z1", "z2"], "t:stop")
    api.hang("sendMessage", chat_id="z1")
    api.intercept = lambda call: (asyncio.sleep(0.3) if call.method == "sendMessage"
                                  and call.chat_id == "z0" else None)
    dispatcher = Dispatcher(db, impatient.config, {"zalo": impatient.sender}, clock)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    await api.wait_for("sendMessage", 3, answered=False)
    stop.set()  # while z0's answer and z1's are on their way
    await asyncio.wait_for(task, 5)
    async with db.read() as conn:
        states = {r["full_name"]: r["state"] for r in await outbox.outbox_rows(conn)}
    assert states == {"Người z0": "sent", "Người z1": "pending", "Người z2": "sent"}

    api.intercept = None
    restarted = Dispatcher(db, impatient.config, {"zalo": impatient.sender}, clock)
    assert await restarted.recover() == 0  # nothing was left in flight
    clock.advance(seconds=impatient.config.outbox.retry_base_seconds)
    assert await restarted.drain() == 1  # z1 only
    delivered = [c.chat_id for c in api.calls_to("sendMessage") if c.ok]
    assert sorted(delivered) == ["z0", "z1", "z2"]


@pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")
async def test_a_429_on_telegram_does_not_hold_up_zalo(impatient, api, db, world, clock):
    """An announcement to ten people, on Telegram and on Zalo in turns (the order it goes
    out in), two messages in flight at once. Telegram refuses the first send «retry after
    2»: no Telegram send starts for 2 s, and the Telegram messages that come up meanwhile go
    back to the queue instead of waiting in the outbox's places, so Zalo's go on."""
    tg_token = "123456:FAKE-token-zalo-and-telegram"
    cfg = replace(impatient.config, outbox=replace(impatient.config.outbox, concurrency=2),
                  telegram=replace(impatient.config.telegram, token=tg_token,
                                   overall_max_rate=1000, per_chat_interval=0))
    async with db.write() as conn:
        await conn.execute("DELETE FROM identities WHERE channel = 'test'")
        ids = []
        for n in range(10):
            pid = await people.create_person(conn, f"Người {n}", actor=SETUP, at=clock())
            if n % 2:
                await on_zalo_conn(conn, pid, f"z{n}", clock)
            else:
                await people.link_identity(conn, pid, channel="telegram",
                                           external_id=str(1000 + n), chat_id=str(1000 + n),
                                           display_name=f"Người {n}", actor=SETUP, at=clock())
            await people.grant_role(conn, pid, "village_head", world.village2, actor=SETUP,
                                    at=clock())
            ids.append(pid)
        await outbox.create_campaign(conn, key="t:mixed", kind="announce", at=clock(),
                                     not_before=clock(),
                                     messages=[Planned(p, Outbound("Họp dân.")) for p in ids])
    async with FakeBotApi(clock, token=tg_token) as tg, Bot(
            tg_token, base_url=tg.base_url, base_file_url=tg.base_file_url) as bot:
        tg.fail("sendMessage", 429, "Too Many Requests: retry after 2", retry_after=2)
        senders = {"telegram": TelegramSender(bot, cfg), "zalo": impatient.sender}
        dispatcher = Dispatcher(db, cfg, senders, clock)
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.run(stop))
        try:
            await api.wait_for("sendMessage", 5, timeout=1.5)  # all of Zalo's, in the pause
            [refused] = tg.calls_to("sendMessage")
            await asyncio.sleep(refused.at + 2.05 - time.monotonic())  # the pause is over
            clock.advance(seconds=3)  # and the messages put back are due again
            for _ in range(200):
                if len(tg.sent()) >= 5:
                    break
                await asyncio.sleep(0.02)
        finally:
            stop.set()
            await asyncio.wait_for(task, 5)
    assert sorted(c.chat_id for c in api.calls_to("sendMessage") if c.ok) == [
        f"z{n}" for n in (1, 3, 5, 7, 9)]
    assert all(c.at - refused.at < 1 for c in api.calls_to("sendMessage"))
    later = [c for c in tg.calls_to("sendMessage") if c is not refused]
    assert all(c.at - refused.at >= 1.99 for c in later)  # nothing inside the pause
    assert sorted(int(c.chat_id) for c in tg.sent()) == [1000 + n for n in (0, 2, 4, 6, 8)]


async def remind(zalo_config, channel, db, world, clock, key: str) -> None:
    """The village head, on Zalo only, is reminded of October's report (as the planner
    words it), delivered by the dispatcher."""
    async with db.write() as conn:
        await conn.execute("DELETE FROM identities WHERE channel = 'test'")
        reminder = Outbound("⏰ Nhắc báo cáo tháng 10/2026.", (
            start_option("monthly_village", "2026-10", world.village),), free_input=False)
        await outbox.create_campaign(conn, key=key, kind="reminder",
                                     messages=[Planned(world.head_id, reminder)],
                                     not_before=clock(), at=clock())
    await Dispatcher(db, zalo_config, {"zalo": channel.sender}, clock).drain()


async def test_a_reminders_report_now_is_typed_on_zalo(zalo_config, channel, api, db, world,
                                                       clock):
    await on_zalo(db, clock, world.head_id, "z100")
    await remind(zalo_config, channel, db, world, clock, "t:remind")
    assert api.sent_texts("z100") == ["⏰ Nhắc báo cáo tháng 10/2026.\n\n1. 📝 Báo cáo ngay"]
    head = ZaloUser(channel, api, clock, "z100")
    reply = await head.send("bao cao ngay")
    assert "tháng 10/2026" in reply and "(1/10) Tổng số hộ" in reply
    await head.send("/huy")
    assert "(1/10)" in await head.send("1")  # the main menu's first entry now


async def test_a_reminder_does_not_interrupt_a_dialog(zalo_config, channel, api, db, world,
                                                      clock):
    await on_zalo(db, clock, world.head_id, "z100")
    head = ZaloUser(channel, api, clock, "z100")
    await head.send("/ho")  # a household search is open
    await remind(zalo_config, channel, db, world, clock, "t:remind2")
    assert "Không tìm thấy hộ" in await head.send("1")  # still the search: "1" is a query


async def test_a_lost_connection_is_transient(channel, api):
    api.drop_connection("sendMessage")
    with pytest.raises(Transient):
        await channel.send("z1", Outbound("x"))


async def test_a_reminder_outside_zalos_window_tells_the_officer(
        zalo_config, channel, api, db, world, clock):
    await on_zalo(db, clock, world.head_id, "z100")
    await on_zalo(db, clock, world.officer_id, "z200")
    async with db.write() as conn:
        await conn.execute("DELETE FROM identities WHERE channel = 'test'")
        await outbox.create_campaign(conn, key="t:window", kind="reminder",
                                     messages=[Planned(world.head_id, Outbound("Nhắc báo cáo"))],
                                     not_before=clock(), at=clock())
    api.fail("sendMessage", error_code=-230, description="Out of interaction window",
             chat_id="z100")
    dispatcher = Dispatcher(db, zalo_config, {"zalo": channel.sender}, clock)
    await dispatcher.drain()
    clock.advance(minutes=1)
    await dispatcher.drain()
    async with db.read() as conn:
        rows = await outbox.outbox_rows(conn)
    states = {(r[2], r[4]) for r in rows}
    assert (world.head_id, "unreachable") in states  # recorded, not retried for ever
    told = api.sent_texts("z200")
    assert any("Lò Văn Páo" in text and "Zalo" in text for text in told)


async def test_the_token_and_the_api_url_never_reach_the_log(
        zalo_config, db, world, clock, api, caplog):
    caplog.set_level(logging.DEBUG)
    for chatty in ("aiohttp.client", "aiohttp.access"):  # other tests may quieten them
        caplog.set_level(logging.DEBUG, logger=chatty)
    core = Core(db, zalo_config, clock)
    zalo = ZaloChannel(zalo_config, core, db)
    await zalo.start()
    try:
        api.fail("sendMessage", error_code=500, description=f"boom {DEFAULT_TOKEN}", times=5)
        await zalo.deliver_replies("z1", [Outbound("xin chào")])
        await api.post_webhook(text_event("xin chào", user_id="z5"), secret="bad-secret!")
    finally:
        await zalo.stop()
        core.close()
    assert "sendMessage" in caplog.text
    assert "boom <token>" in caplog.text  # Zalo's description, redacted
    assert DEFAULT_TOKEN not in caplog.text and api.url("sendMessage") not in caplog.text
    assert SECRET not in caplog.text


# ---- polling, restarts ----------------------------------------------------------------------


async def test_polling_mode_answers_and_survives_a_timeout(zalo_config, db, world, clock, api):
    await on_zalo(db, clock, world.head_id, "z100")
    cfg = replace(zalo_config, zalo=replace(zalo_config.zalo, mode="polling", poll_timeout=1))
    core = Core(db, cfg, clock)
    zalo = ZaloChannel(cfg, core, db)
    await zalo.start()
    try:
        await api.wait_for("getUpdates", answered=False)
        await asyncio.sleep(1.2)  # one poll times out (408) first
        api.queue(text_event("/toi", user_id="z100", date_ms=ms(clock)))
        await api.wait_for("sendMessage")
    finally:
        await zalo.stop()
        core.close()
    assert any("Lò Văn Páo" in text for text in api.sent_texts("z100"))
    assert api.calls_to("deleteWebhook")


async def test_events_stored_before_a_crash_are_processed_at_start_up(
        zalo_config, db, world, clock, api):
    await on_zalo(db, clock, world.head_id, "z100")
    event = text_event("/toi", user_id="z100", date_ms=ms(clock))
    inbound = zl.to_inbound(event)
    async with db.write() as conn:  # stored and acknowledged, then the process died
        await inbox.store(conn, "zalo", [(inbound.message_id, "z100", json.dumps(event))],
                          clock())
    core = Core(db, zalo_config, clock)
    zalo = ZaloChannel(zalo_config, core, db)
    await zalo.start()
    try:
        await zalo.drain()
        await api.post_webhook(event)  # Zalo retries it: still once
        await zalo.drain()
    finally:
        await zalo.stop()
        core.close()
    assert sum("Lò Văn Páo" in text for text in api.sent_texts("z100")) == 1
    async with db.read() as conn:
        assert await inbox.waiting(conn, "zalo") == []


async def test_an_event_that_breaks_the_core_is_not_retried_for_ever(
        zalo_config, db, world, clock, api, caplog):
    class Broken(Core):
        async def _dispatch(self, ctx):
            raise RuntimeError("boom")

    core = Broken(db, zalo_config, clock)
    zalo = ZaloChannel(zalo_config, core, db)
    await zalo.start()
    try:
        with caplog.at_level(logging.ERROR):
            await api.post_webhook(text_event("/toi", user_id="z100"))
            await zalo.drain()
    finally:
        await zalo.stop()
        core.close()
    assert any("lỗi" in text.lower() for text in api.sent_texts("z100"))
    async with db.read() as conn:
        assert await inbox.waiting(conn, "zalo") == []


async def test_stopping_finishes_the_messages_being_processed(
        zalo_config, db, world, clock, api):
    await on_zalo(db, clock, world.head_id, "z100")
    core = Core(db, zalo_config, clock)
    zalo = ZaloChannel(zalo_config, core, db)
    await zalo.start()
    api.delay("sendMessage", 0.3)
    await api.post_webhook(text_event("/toi", user_id="z100", date_ms=ms(clock)))
    await zalo.stop()
    core.close()
    assert any("Lò Văn Páo" in text for text in api.sent_texts("z100"))


# ---- the process ---------------------------------------------------------------------------


async def test_the_bot_runs_on_zalo_alone_with_its_calendar(zalo_config, tmp_path, api, clock):
    from bot import app

    cfg = replace(zalo_config, db_path=tmp_path / "real.sqlite3")
    async with app.open_services(cfg, clock=clock) as services:
        stop = asyncio.Event()
        task = asyncio.create_task(app._run_messengers(services, ["zalo"], stop))
        await api.wait_for("setWebhook")
        status, _ = await api.post_webhook(text_event("xin chào", user_id="z1"))
        await api.wait_for("sendMessage")
        stop.set()
        assert await asyncio.wait_for(task, 10) == app.EXIT_OK
    assert status == 200 and "chưa được đăng ký" in api.sent_texts("z1")[0]


def test_zalo_mode_needs_a_token(tmp_path, config):
    from bot import app

    cfg = replace(config, db_path=tmp_path / "real.sqlite3")
    assert app.run(cfg, mode="zalo") == app.EXIT_USAGE
    assert not (tmp_path / "real.sqlite3").exists()


@pytest.mark.parametrize("toml, env, named", [
    ('[zalo]\ntoken = "x"\n', {}, "GIAMNGHEO_ZALO_TOKEN"),
    ('[zalo]\nmode = "push"\n', {}, "zalo.mode"),
    ("[zalo]\nlisten_port = 70000\n", {}, "zalo.listen_port"),
    ('[zalo]\npublic_base_url = "giamngheo.vn"\n', {}, "zalo.public_base_url"),
    ("", {"GIAMNGHEO_ZALO_TOKEN": "t"}, "zalo.public_base_url"),  # webhook mode needs it
    ("", {"GIAMNGHEO_ZALO_SECRET": "short"}, "GIAMNGHEO_ZALO_SECRET"),
    ("[zalo]\nmax_rate = 0\n", {}, "zalo.max_rate"),
    ("[zalo]\nregister_webhook = false\n", {"GIAMNGHEO_ZALO_TOKEN": "t"},
     "GIAMNGHEO_ZALO_SECRET"),
    ("[zalo]\nwindow_patterns = []\n", {}, None),  # allowed: nothing is read as the window
    ('[zalo]\nblocked_patterns = [""]\n', {}, "zalo.blocked_patterns"),
    ("[zalo]\nrate = 5\n", {}, "zalo.rate"),
    ("[zalo]\nquota_pause_max_seconds = 10\n", {}, "zalo.quota_pause_max_seconds"),
    ("[zalo]\nthrottle_retry_seconds = 0\n", {}, "zalo.throttle_retry_seconds"),
    ("[zalo]\ntransient_retries = 9\n", {}, "zalo.transient_retries"),
])
def test_a_wrong_zalo_setting_stops_the_start_naming_it(tmp_path, toml, env, named):
    from common.config import ConfigError, load_config

    path = tmp_path / "config.toml"
    path.write_text(toml, encoding="utf-8")
    if named is None:
        assert load_config(path, env=env).zalo.window_patterns == ()
        return
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_config(path, env=env)


# ---- what Zalo documents, and what integrations report (issue 11, item 19) --------------------


async def test_the_bots_own_messages_are_not_answered(channel, api, db, world, clock):
    """An event whose sender is the bot (its id from getMe, with or without is_bot) gets no
    reply: answering it would be answered again (a loop)."""
    assert channel.bot_id == BOT_ID
    await on_zalo(db, clock, world.head_id, "z100")
    for is_bot in (None, True, False):
        status, _ = await api.post_webhook(own_message_event("Xin chào!", chat_id="z100",
                                                             is_bot=is_bot))
        assert status == 200
    await channel.drain()
    other_bot = text_event("/toi", user_id="z777", is_bot=True)
    assert (await api.post_webhook(other_bot))[0] == 200
    await channel.drain()
    assert api.sent_texts() == []
    async with db.read() as conn:
        assert await inbox.waiting(conn, "zalo") == []
        seen = await conn.execute_fetchall("SELECT count(*) FROM inbound_seen")
    assert seen[0][0] == 0


async def test_a_group_message_gets_no_answer_in_the_group(channel, api, db, world, clock):
    """Zalo documents group chats (the bot hears mentions and replies there); figures must not
    be shown to a whole group, so the bot answers only private chats."""
    await on_zalo(db, clock, world.head_id, "z100")
    event = text_event("/thongke", user_id="z100", chat_id="grp-1", chat_type="GROUP")
    assert (await api.post_webhook(event))[0] == 200
    await channel.drain()
    assert api.sent_texts() == []


async def test_polling_reads_the_getupdates_sample_of_the_docs(zalo_config, db, world, clock,
                                                             api, caplog):
    """The documentation's getUpdates answer has no event_name and names the sender
    first_name: it is read as the text message it is."""
    await on_zalo(db, clock, world.head_id, "z100")
    cfg = replace(zalo_config, zalo=replace(zalo_config.zalo, mode="polling", poll_timeout=1))
    core = Core(db, cfg, clock)
    zalo = ZaloChannel(cfg, core, db)
    await zalo.start()
    try:
        api.queue(docs_update("/toi", user_id="z100", first_name="Lo Van Pao",
                              date_ms=ms(clock)))
        await api.wait_for("sendMessage")
    finally:
        await zalo.stop()
        core.close()
    assert any("Bạn là Lò Văn Páo" in text for text in api.sent_texts("z100"))
    assert "refused" not in caplog.text
    inbound = zl.to_inbound(zl.unwrap({"ok": True, "result": docs_update("chào", user_id="u5",
                                                                          first_name="An")}))
    assert (inbound.kind, inbound.text, inbound.display_name) == ("text", "chào", "An")


def test_an_update_without_event_name_is_named_from_its_content():
    def named(**message) -> str:
        body = {"message": {"from": {"id": "u1"}, "chat": {"id": "u1"}, **message}}
        return zl.unwrap(body)["event_name"]

    assert named(text="chào") == "message.text.received"
    assert named(photo="https://x/a.jpg", caption="ảnh") == "message.image.received"
    assert named(sticker="abc", url="https://x/s.png") == "message.sticker.received"
    assert named(voice_url="https://x/v.aac") == "message.voice.received"
    assert named() == "message.unsupported.received"
    with pytest.raises(zl.BadEvent):
        zl.unwrap({"message": {"text": "no sender, no chat"}})


async def test_an_internal_server_error_is_retried_a_few_times_for_a_reply(
        channel, api, caplog):
    """Zalo's 403 is «Internal server error»: passing, so a reply is tried again (a bounded
    number of times) rather than dropped as misconfigured."""
    api.fail("sendMessage", error_code=403, description="Internal server error", times=2)
    await channel.deliver_replies("z1", [Outbound("Đã lưu báo cáo tháng 10/2026.")])
    assert api.sent_texts("z1") == ["Đã lưu báo cáo tháng 10/2026."]
    api.fail("sendMessage", error_code=403, description="Internal server error", times=50)
    mark = len(api.calls_to("sendMessage"))
    with caplog.at_level(logging.WARNING):
        await channel.deliver_replies("z2", [Outbound("Xin chào")])
    tries = len(api.calls_to("sendMessage")) - mark
    assert 2 <= tries <= 4 and api.sent_texts("z2") == []
    assert "Transient" in caplog.text


# ---- a reply that fails (issue 12, item 3) ------------------------------------------------------

UNDELIVERED = "Xin lỗi, câu hỏi trước chưa tới được bạn:"


@pytest.fixture
async def head_on_zalo(channel, api, db, world, clock, monkeypatch):
    monkeypatch.setattr(zl, "REPLY_BACKOFF", 0.01)
    await on_zalo(db, clock, world.head_id, "z100")
    person = ZaloUser(channel, api, clock, "z100")
    assert "(1/10) Tổng số hộ" in await person.send("/baocao")
    return person


async def zalo_draft(db) -> dict:
    from storage.dialogs import load_dialog

    async with db.read() as conn:
        return (await load_dialog(conn, "zalo", "z100")).draft


async def test_a_reply_refused_with_502_once_is_sent_again(head_on_zalo, api):
    api.fail("sendMessage", error_code=502, description="Bad Gateway")
    assert "(2/10) Số hộ nghèo" in await head_on_zalo.send("261")


@pytest.mark.parametrize("fault", ["502", "connection lost"])
async def test_an_answer_retyped_after_a_lost_question_is_not_taken_for_the_next_field(
        head_on_zalo, api, db, fault):
    """The issue's case: «261» answered, its reply lost; «261» typed again is not the number
    of poor households: the question comes again, and the form goes on where it was."""
    if fault == "502":
        api.fail("sendMessage", error_code=502, description="Bad Gateway", times=3)
    else:
        api.drop_connection("sendMessage")  # may have gone through: not sent again
    assert await head_on_zalo.send("261") == ""
    reply = await head_on_zalo.send("261")
    assert reply.startswith(UNDELIVERED) and "(2/10) Số hộ nghèo" in reply
    assert "(3/10)" in await head_on_zalo.send("15")
    values = (await zalo_draft(db))["values"]
    assert values["total"] == 261 and values["poor"] == 15


async def test_a_reply_whose_answer_was_lost_is_not_sent_twice(head_on_zalo, api, db):
    """Zalo took the message and the connection broke on the way back: the person has the
    question; it is not sent again, and at worst asked once more."""
    api.drop_connection("sendMessage", after=True)
    mark = len(api.calls)
    await head_on_zalo.send("261")
    assert len([c for c in api.calls[mark:] if c.method == "sendMessage"]) == 1
    reply = await head_on_zalo.send("15")
    assert reply.startswith(UNDELIVERED) and "(2/10)" in reply
    assert "(3/10)" in await head_on_zalo.send("15")


async def test_replies_joined_into_one_message_keep_their_question(channel):
    from common.messages import Option

    question = Outbound("(2/10) Số hộ nghèo?", (Option("❌ Hủy", "x.cancel"),), asks="x")
    joined = zl.coalesce([Outbound("Đã ghi 261."), question])
    assert len(joined) == 1 and joined[0].asks == "x"


async def test_a_reminder_hit_by_an_internal_server_error_is_retried_later(
        zalo_config, channel, api, db, world, clock):
    await on_zalo(db, clock, world.head_id, "z100")
    api.fail("sendMessage", error_code=403, description="Internal server error")
    await remind(zalo_config, channel, db, world, clock, "t:remind403")
    async with db.read() as conn:
        [row] = [r for r in await outbox.outbox_rows(conn) if r[1] == "t:remind403"]
    assert row[4] == "pending" and row[5] == 1  # to be tried again, not failed for good


async def admin_on_telegram(db, clock) -> int:
    async with db.write() as conn:
        province = (await conn.execute_fetchall(
            "SELECT id FROM areas WHERE level = 'province'"))[0][0]
        from storage.areas import get_area

        area = await get_area(conn, province)
        pid = await people.create_person(conn, "Quản trị viên", actor=SETUP, at=clock())
        await people.link_identity(conn, pid, channel="telegram", external_id="900",
                                   chat_id="900", display_name="", actor=SETUP, at=clock())
        await people.grant_role(conn, pid, "admin", area, actor=SETUP, at=clock())
    return pid


async def test_a_quota_refusal_pauses_the_channel_and_tells_an_operator(
        channel, api, db, world, clock, caplog):
    """Zalo's 429 is «Quota exceeded» (a plan's quota, possibly for the day or the month):
    the channel pauses, each refusal in a row doubles the pause up to a limit, nothing is
    sent to Zalo while paused, an error is logged and the admins are told once a day."""
    admin = await admin_on_telegram(db, clock)
    now = [1000.0]
    channel.quota.monotonic = lambda: now[0]
    api.fail("sendMessage", error_code=429, description="Quota exceeded", times=2)
    with caplog.at_level(logging.ERROR), pytest.raises(Throttled) as first:
        await channel.send("z1", Outbound("nhắc việc"))
    assert first.value.retry_after == channel.zalo.throttle_retry_seconds
    assert "quota" in caplog.text.lower() and "bot.zapps.me" in caplog.text
    calls = len(api.calls_to("sendMessage"))
    now[0] += 10
    with pytest.raises(Throttled) as waiting:  # paused: Zalo is not asked
        await channel.send("z1", Outbound("nhắc việc"))
    assert waiting.value.retry_after == pytest.approx(channel.zalo.throttle_retry_seconds - 10)
    assert len(api.calls_to("sendMessage")) == calls
    now[0] += channel.zalo.throttle_retry_seconds
    with pytest.raises(Throttled) as second:
        await channel.send("z1", Outbound("nhắc việc"))
    assert second.value.retry_after == 2 * channel.zalo.throttle_retry_seconds
    now[0] += 10_000_000
    await channel.send("z1", Outbound("nhắc việc"))  # the quota has cleared
    assert api.sent_texts("z1") == ["nhắc việc"]
    api.fail("sendMessage", error_code=429, description="Quota exceeded")
    with pytest.raises(Throttled) as again:  # a new run of refusals starts short again
        await channel.send("z1", Outbound("nhắc việc"))
    assert again.value.retry_after == channel.zalo.throttle_retry_seconds
    await channel.quota_notice
    async with db.read() as conn:
        alerts = [r for r in await outbox.outbox_rows(conn) if r[1].startswith("alert:zalo")]
    assert [(r[2], r[4]) for r in alerts] == [(admin, "pending")]  # one a day
    text = outbox.decode_message(alerts[0][11]).text
    assert "Zalo" in text and "hạn mức" in text


@pytest.fixture
async def paused_1s(zalo_config, db, clock, world):
    """The Zalo channel whose first quota pause is 1 s."""
    cfg = replace(zalo_config, zalo=replace(zalo_config.zalo, throttle_retry_seconds=1))
    core = Core(db, cfg, clock)
    zalo = ZaloChannel(cfg, core, db)
    await zalo.start()
    yield zalo
    await zalo.stop()
    core.close()


async def test_a_send_in_flight_that_goes_through_does_not_end_the_pause(paused_1s, api):
    """Two sends under way when Zalo refuses one with 429: the other one's success was
    decided before the refusal, so the pause holds, and a reply waits for its end."""
    api.delay("sendMessage", 0.2)
    api.fail("sendMessage", error_code=429, description="Quota exceeded", chat_id="z1")
    refused, passed = await asyncio.gather(
        paused_1s.send("z1", Outbound("nhắc việc")), paused_1s.send("z2", Outbound("nhắc")),
        return_exceptions=True)
    assert isinstance(refused, Throttled) and passed is None
    answered = time.monotonic()
    api.delay("sendMessage", 0)
    await paused_1s.send("z3", Outbound("trả lời"), wait_throttled=60)
    [reply] = [c for c in api.calls_to("sendMessage") if c.chat_id == "z3"]
    assert reply.at - answered >= 0.75  # the pause (1 s) began 0.2 s before the answers


async def test_refusals_of_sends_in_flight_together_are_one_refusal(
        paused_1s, api, db, world, clock):
    """Three of eight reminders under way at once are refused with 429: that is one
    refusal of the quota, so the pause is the first one (1 s), not doubled twice (4 s)."""
    await zalo_heads(db, clock, world, [f"z{n}" for n in range(10)], "t:in-flight")
    api.delay("sendMessage", 0.2)
    api.fail("sendMessage", error_code=429, description="Quota exceeded", times=3)
    cfg = replace(paused_1s.config, outbox=replace(paused_1s.config.outbox, concurrency=8))
    await Dispatcher(db, cfg, {"zalo": paused_1s.sender}, clock).drain()
    calls = api.calls_to("sendMessage")
    refusals = [c for c in calls if c.error_code == 429]
    assert len(refusals) == 3
    later = [c.at - refusals[0].at for c in calls[8:]]
    assert {"z8", "z9"} <= {c.chat_id for c in calls[8:]}
    assert all(1.1 <= gap < 2.2 for gap in later), later  # 1 s after the refusals' answers


def test_a_long_pause_never_exceeds_its_limit(config):
    pause = zl.QuotaPause(30, 3600, monotonic=lambda: 0.0)
    waits = [pause.refused() for _ in range(12)]
    assert waits[:4] == [30, 60, 120, 240] and max(waits) == 3600 == waits[-1]


async def test_a_reminder_hit_by_the_quota_waits_for_the_pause(
        zalo_config, channel, api, db, world, clock):
    await on_zalo(db, clock, world.head_id, "z100")
    api.fail("sendMessage", error_code=429, description="Quota exceeded")
    await remind(zalo_config, channel, db, world, clock, "t:quota")
    async with db.read() as conn:
        [row] = [r for r in await outbox.outbox_rows(conn) if r[1] == "t:quota"]
    from datetime import datetime, timedelta

    assert row[4] == "pending" and row[5] == 0  # throttling is not a failed attempt
    assert datetime.fromisoformat(row[8]) >= clock() + timedelta(
        seconds=channel.zalo.throttle_retry_seconds - 1)


async def test_a_caption_is_measured_as_zalo_counts_it(channel, api):
    """sendPhoto's caption is 1-2,000 characters (documented); an emoji counts two, so a
    text of 1,990 characters with emojis goes after the photo, not as its caption."""
    text = "📊 Tỷ lệ nghèo " + "x" * 1964 + " 📈" * 8
    assert len(text) <= 2000 < len(text.encode("utf-16-le")) // 2
    await channel.send("z1", Outbound(text, image=b"\x89PNG\r\n\x1a\n" + b"\x00" * 64))
    [photo] = api.photos("z1")
    assert "caption" not in photo.params
    pieces = api.sent_texts("z1")
    assert len(pieces) == 2 and " ".join(pieces) == text  # cut between words, nothing lost


@pytest.mark.parametrize("answer", [(401, 401), (200, 401)])
async def test_a_wrong_token_stops_the_start_naming_the_variable(
        zalo_config, db, world, clock, api, answer):
    http_status, code = answer
    api.fail("getMe", error_code=code, description="Unauthorized", http_status=http_status)
    core = Core(db, zalo_config, clock)
    zalo = ZaloChannel(zalo_config, core, db)
    try:
        with pytest.raises(ConfigError, match="GIAMNGHEO_ZALO_TOKEN"):
            await zalo.start()
    finally:
        await zalo.stop()
        core.close()


async def test_the_bot_with_a_wrong_zalo_token_says_so_in_one_line(
        zalo_config, tmp_path, clock, caplog):
    from bot import app

    async with FakeZaloApi(token="the-right-token") as api:
        cfg = replace(zalo_config, db_path=tmp_path / "real.sqlite3",
                      zalo=replace(zalo_config.zalo, base_url=api.base_url))
        with caplog.at_level(logging.INFO):
            status = await app._main(cfg, "messengers", ["zalo"], None, None, False, None)
    assert status != app.EXIT_OK
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "GIAMNGHEO_ZALO_TOKEN" in errors[0].getMessage()
    assert not any(r.exc_info for r in caplog.records)  # no traceback
    assert DEFAULT_TOKEN not in caplog.text


async def test_an_unreachable_api_at_start_up_is_one_clear_line(
        zalo_config, tmp_path, clock, caplog):
    from bot import app

    cfg = replace(zalo_config, db_path=tmp_path / "real.sqlite3",
                  zalo=replace(zalo_config.zalo, base_url=f"http://127.0.0.1:{free_port()}",
                               request_timeout=1))
    with caplog.at_level(logging.INFO):
        status = await app._main(cfg, "messengers", ["zalo"], None, None, False, None)
    assert status != app.EXIT_OK
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "zalo.base_url" in errors[0].getMessage()
    assert not any(r.exc_info for r in caplog.records)
