"""One table-driven suite for every messenger adapter (DESIGN.md: adapters only translate).

Each row says what happens in channel-neutral words; a driver per messenger turns it into
what that messenger delivers or answers, and reads back what the adapter made of it:

* payload → ``Inbound`` (the same fields for every messenger);
* ``Outbound`` → the HTTP requests the messenger receives (its fake server records them);
* an error response → the channel-neutral delivery error.

Telegram runs through python-telegram-bot's real stack against ``tests/fake_bot_api.py``, Zalo
through the bot's Zalo client against ``tests/fake_zalo_api.py``; neither leaves 127.0.0.1.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from telegram import Update

from bot.channels import telegram as tg
from bot.channels import zalo as zl
from common.config import replace
from common.delivery import (
    ChatNotFound,
    DeliveryError,
    Misconfigured,
    OutsideWindow,
    RecipientBlocked,
    Throttled,
    Transient,
)
from common.messages import Inbound, Option, Outbound
from handlers.core import Core
from tests.fake_bot_api import FakeBotApi
from tests.fake_zalo_api import DEFAULT_TOKEN, FakeZaloApi

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")

WHEN = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
NAME = "Lò Văn Páo"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
XLSX = b"PK\x03\x04" + b"\x00" * 32
LINK = "<link>"


# ---- the table ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Said:
    """What a person sends, in neutral words."""

    kind: str  # text | image | sticker | voice | unsupported | button
    text: str = ""
    from_bot: bool = False  # another bot wrote
    from_self: bool = False  # the bot's own message, as it may come back
    in_group: bool = False  # in a group chat, not the private chat with the bot


INBOUND = [
    ("a text", Said("text", "/baocao 120"), {"kind": "text", "text": "/baocao 120"}),
    ("Vietnamese text", Said("text", "Bản Nà Khan: 120 hộ"),
     {"kind": "text", "text": "Bản Nà Khan: 120 hộ"}),
    ("an image with a caption", Said("image", "ảnh họp thôn"),
     {"kind": "image", "text": "ảnh họp thôn"}),
    ("a sticker", Said("sticker"), {"kind": "sticker", "text": ""}),
    ("something unsupported", Said("unsupported"), {"kind": "unsupported", "text": ""}),
    ("a voice message", Said("voice"), {"kind": "unsupported", "text": ""}),
    ("a message of a bot", Said("text", "xin chào", from_bot=True), None),
    ("the bot's own message", Said("text", "✅ Đã lưu báo cáo", from_self=True), None),
    ("a command in a group", Said("text", "/thongke", in_group=True), None),
]

OPTIONS = (Option("✅ Gửi", "n1.save"), Option("❌ Hủy", "n1.cancel"))
LONG = "\n".join(f"{n}. Thôn số {n}: 120 hộ, 15 hộ nghèo, 8 hộ cận nghèo" for n in range(200))

# (case, Outbound, Telegram's requests, Zalo's requests). A request is (method, its text or
# caption, the buttons or the photo); long texts are checked by rule in the test.
OUTBOUND = [
    ("plain text", Outbound("Xin chào"),
     [("sendMessage", "Xin chào", [])],
     [("sendMessage", "Xin chào", None)]),
    ("options to choose", Outbound("Gửi báo cáo?", OPTIONS, free_input=False),
     [("sendMessage", "Gửi báo cáo?", ["✅ Gửi", "❌ Hủy"])],
     [("sendMessage", "Gửi báo cáo?\n\n1. ✅ Gửi\n2. ❌ Hủy", None)]),
    ("options beside a typed answer", Outbound("(1/10) Tổng số hộ?", (
        Option("Giữ nguyên (120)", "n1.keep"), Option("❌ Hủy", "n1.cancel"))),
     [("sendMessage", "(1/10) Tổng số hộ?", ["Giữ nguyên (120)", "❌ Hủy"])],
     [("sendMessage", "(1/10) Tổng số hộ?\n\n[Giữ nguyên (120)] [❌ Hủy]", None)]),
    ("a chart", Outbound("📈 Tỷ lệ nghèo", image=PNG),
     [("sendPhoto", "📈 Tỷ lệ nghèo", [])],
     [("sendPhoto", "📈 Tỷ lệ nghèo", LINK)]),
    ("a spreadsheet", Outbound("Báo cáo tháng 10", document=XLSX, filename="bao-cao.xlsx"),
     [("sendDocument", "Báo cáo tháng 10", [])],
     [("sendMessage", "Báo cáo tháng 10\n\n📎 Tải tệp bao-cao.xlsx: <link>\n"
       "(Liên kết dùng được trong 60 phút.)", None)]),
]

# (case, Telegram's answer (status, description) or None, Zalo's answer (HTTP status,
# error_code, description) or None, the delivery error). None: that messenger never says it.
ERRORS = [
    ("blocked", (403, "Forbidden: bot was blocked by the user"),
     (200, 403, "User has blocked the bot"), RecipientBlocked),
    ("throttled", (429, "Too Many Requests: retry after 7"),
     (200, 429, "Too many requests, retry after 7"), Throttled),
    ("Zalo's quota exceeded", None, (429, 429, "Quota exceeded"), Throttled),
    ("Zalo's internal server error", None, (403, 403, "Internal server error"), Transient),
    ("Zalo's internal server error at HTTP 200", None, (200, 403, "Internal server error"),
     Transient),
    ("Zalo's request timeout", None, (408, 408, "Request timeout"), Transient),
    ("Zalo's not found", None, (404, 404, "Not found"), Misconfigured),
    ("a wrong token", (401, "Unauthorized"), (401, 401, "Unauthorized"), Misconfigured),
    ("a bad request", (400, "Bad Request: message is too long"),
     (200, 400, "Bad request"), Misconfigured),
    # The bot cannot address this person (no longer, or never did): like a block, the person's
    # other messenger is tried and the officer told; not our request's fault.
    ("an unknown chat", (400, "Bad Request: chat not found"),
     (200, 400, "chat_id is invalid"), ChatNotFound),
    ("a server error", (500, "Internal Server Error"),
     (500, 500, "Internal Server Error"), Transient),
    ("a gateway error", (502, "Bad Gateway"), (502, 502, "Bad Gateway"), Transient),
    ("outside the window", None,
     (200, -230, "User has not interacted with the bot in the last 7 days"), OutsideWindow),
    ("an undocumented code", None, (200, -999, "Unknown error"), Transient),
]


# ---- drivers ----------------------------------------------------------------------------------


class TelegramDriver:
    channel = "telegram"

    def __init__(self, api: FakeBotApi, bot):
        self.api, self.bot = api, bot

    def payload(self, said: Said, message_id: int = 5) -> dict:
        user = {"id": 42, "is_bot": said.from_bot, "first_name": "Lò", "last_name": "Văn Páo"}
        if said.from_self:
            user = {"id": int(self.bot.id), "is_bot": True, "first_name": "Giảm nghèo"}
        chat = ({"id": -1001, "type": "supergroup", "title": "Nhóm"} if said.in_group
                else {"id": 42, "type": "private"})
        message = {"message_id": message_id, "date": int(WHEN.timestamp()),
                   "chat": chat, "from": user}
        if said.kind == "text":
            message["text"] = said.text
        elif said.kind == "image":
            message["photo"] = [{"file_id": "p", "file_unique_id": "u", "width": 1,
                                 "height": 1}]
            message["caption"] = said.text
        elif said.kind == "sticker":
            message["sticker"] = {"file_id": "s", "file_unique_id": "u", "width": 1,
                                  "height": 1, "is_animated": False, "is_video": False,
                                  "type": "regular"}
        elif said.kind == "voice":
            message["voice"] = {"file_id": "v", "file_unique_id": "u", "duration": 3}
        else:
            message["location"] = {"latitude": 22.3, "longitude": 102.8}
        return {"update_id": 900 + message_id, "message": message}

    def inbound(self, payload: dict) -> Inbound | None:
        return tg.to_inbound(Update.de_json(payload, None))

    async def send(self, outbound: Outbound) -> list[tuple]:
        mark = len(self.api.calls)
        await tg.send(self.bot, "42", outbound)
        return [(c.method, c.text, [b["text"] for b in c.buttons])
                for c in self.api.calls[mark:] if c.method.startswith("send")]

    async def refuse(self, answer: tuple) -> DeliveryError:
        status, description = answer
        found = re.search(r"retry after (\d+)", description)
        self.api.fail("sendMessage", status, description,
                      retry_after=int(found.group(1)) if found else None)
        with pytest.raises(DeliveryError) as caught:
            await tg.send(self.bot, "42", Outbound("x"))
        return caught.value


class ZaloDriver:
    channel = "zalo"

    def __init__(self, api: FakeZaloApi, zalo: zl.ZaloChannel):
        self.api, self.zalo = api, zalo

    def payload(self, said: Said, message_id: int = 5) -> dict:
        event = {"text": "message.text.received", "image": "message.image.received",
                 "sticker": "message.sticker.received", "voice": "message.voice.received",
                 "unsupported": "message.unsupported.received"}[said.kind]
        sender = {"id": "42", "display_name": NAME, "is_bot": said.from_bot}
        if said.from_self:  # the bot's id (getMe), no is_bot: nothing else gives it away
            sender = {"id": self.zalo.bot_id, "display_name": "Bot Giảm nghèo"}
        message = {"message_id": f"m{message_id}", "date": int(WHEN.timestamp() * 1000),
                   "chat": {"id": "g1" if said.in_group else "42",
                            "chat_type": "GROUP" if said.in_group else "PRIVATE"},
                   "from": sender}
        if said.kind == "text":
            message["text"] = said.text
        elif said.kind == "image":
            message.update(photo="https://photo-stal.zadn.vn/x.jpg", caption=said.text)
        elif said.kind == "sticker":
            message.update(sticker="bfe3", url="https://zalo-api.zadn.vn/s.png")
        elif said.kind == "voice":
            message.update(voice_url="https://voice-stal.zadn.vn/x.aac")
        return {"ok": True, "result": {"event_name": event, "message": message}}

    def inbound(self, payload: dict) -> Inbound | None:
        return zl.to_inbound(zl.unwrap(payload), bot_id=self.zalo.bot_id)

    async def send(self, outbound: Outbound) -> list[tuple]:
        mark = len(self.api.calls)
        await self.zalo.send("42", outbound)
        out = []
        for call in self.api.calls[mark:]:
            photo = call.params.get("photo")
            if photo is not None:
                assert call.photo_bytes == outbound.image  # Zalo fetched the bot's link
                photo = LINK
            text = re.sub(r"https?://\S+/media/\S+", LINK, call.text)
            out.append((call.method, text, photo))
        return out

    async def refuse(self, answer: tuple) -> DeliveryError:
        http_status, code, description = answer
        self.api.fail("sendMessage", error_code=code, description=description,
                      http_status=http_status)
        with pytest.raises(DeliveryError) as caught:
            await self.zalo.send("42", Outbound("x"))
        return caught.value


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(params=["telegram", "zalo"])
async def driver(request, config, db, clock):
    """The adapter of one messenger against its fake server (``indirect`` picks which)."""
    if request.param == "telegram":
        async with FakeBotApi(clock) as api:
            telegram = replace(config.telegram, token="123456:FAKE", base_url=api.base_url,
                               base_file_url=api.base_file_url, overall_max_rate=1000)
            application = tg.build_application(replace(config, telegram=telegram),
                                               Core(db, config, clock))
            async with application:
                yield TelegramDriver(api, application.bot)
        return
    async with FakeZaloApi() as api:
        port = free_port()
        zalo_cfg = replace(config.zalo, token=DEFAULT_TOKEN, base_url=api.base_url,
                           listen_port=port, public_base_url=f"http://127.0.0.1:{port}",
                           webhook_secret="secret-for-tests")
        cfg = replace(config, zalo=zalo_cfg)
        channel = zl.ZaloChannel(cfg, Core(db, cfg, clock), db)
        await channel.start()  # serves the media links Zalo fetches
        try:
            yield ZaloDriver(api, channel)
        finally:
            await channel.stop()


# ---- the suite --------------------------------------------------------------------------------


@pytest.mark.parametrize("said, expected", [c[1:] for c in INBOUND], ids=[c[0] for c in INBOUND])
def test_payload_to_inbound(driver, said, expected):
    inbound = driver.inbound(driver.payload(said))
    if expected is None:
        assert inbound is None
        return
    assert (inbound.channel, inbound.sender_id, inbound.chat_id) == (driver.channel, "42", "42")
    assert inbound.display_name == NAME and inbound.received_at == WHEN
    assert {"kind": inbound.kind, "text": inbound.text} == expected
    again = driver.inbound(driver.payload(said))
    other = driver.inbound(driver.payload(said, message_id=6))
    assert again.message_id == inbound.message_id != other.message_id  # redeliveries known


@pytest.mark.parametrize("outbound, telegram, zalo", [c[1:] for c in OUTBOUND],
                         ids=[c[0] for c in OUTBOUND])
async def test_outbound_to_requests(driver, outbound, telegram, zalo):
    expected = telegram if driver.channel == "telegram" else zalo
    assert await driver.send(outbound) == expected


async def test_a_long_text_goes_in_pieces_cut_at_line_ends(driver):
    limit = 4096 if driver.channel == "telegram" else 2000
    requests = await driver.send(Outbound(LONG, OPTIONS))
    texts = [text for _, text, _ in requests]
    assert len(texts) >= len(LONG) // limit + 1 and all(len(text) <= limit for text in texts)
    if driver.channel == "telegram":
        assert "\n".join(texts) == LONG
        assert [bool(buttons) for _, _, buttons in requests][-1]  # buttons with the last
    else:
        assert "\n".join(texts) == LONG + "\n\n[✅ Gửi] [❌ Hủy]"


# (case, messenger, its answer, the delivery error): only what each messenger does answer.
REFUSALS = [(case, channel, answer, expected)
            for case, telegram, zalo, expected in ERRORS
            for channel, answer in (("telegram", telegram), ("zalo", zalo))
            if answer is not None]


@pytest.mark.parametrize("driver, answer, expected", [r[1:] for r in REFUSALS],
                         ids=[f"{r[1]}-{r[0]}" for r in REFUSALS], indirect=["driver"])
async def test_error_response_to_delivery_error(driver, answer, expected):
    error = await driver.refuse(answer)
    assert type(error) is expected and error.channel == driver.channel
    assert error.retryable == (expected in (Throttled, Transient))
    if expected is Throttled and "7" in answer[-1]:
        assert error.retry_after == 7
