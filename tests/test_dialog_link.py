"""One person on Telegram and Zalo: /lienket gives a one-time code, the other app sends it."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest

from common.config import ConfigError, LinkConfig, load_config, replace
from common.messages import Outbound
from handlers.core import Core
from handlers.link import new_code
from handlers.router import looks_like_invite, looks_like_link_code, match
from scheduler.dispatcher import Dispatcher
from storage import audit, invites, links, people
from storage.audit import Actor
from storage.outbox import Planned, create_campaign, outbox_rows, reachable_identities
from tests.conftest import ROOT, Chat
from tests.test_dialog_enrol import CLI

CODE = re.compile(r"\b[A-HJKMNP-Z2-9]{3}-[A-HJKMNP-Z2-9]{3}-[A-HJKMNP-Z2-9]{3}\b")


class FakeSender:
    """A messenger that records what the dispatcher gives it."""

    rate = 1000.0
    per_chat_interval = 0.0

    def __init__(self, channel: str):
        self.channel = channel
        self.sent: list[tuple[str, str]] = []

    async def send(self, chat_id: str, message: Outbound) -> None:
        self.sent.append((chat_id, message.text))


async def enrolled_on_telegram(core, db, clock, world) -> Chat:
    """Lường Thị Mai, village head of Bản Pa Ủ, enrolled on Telegram by an invite."""
    async with db.write() as conn:
        await invites.create_invite(conn, code="ABCD2345", role="village_head",
                                    area_id=world.village2.id, full_name="Lường Thị Mai",
                                    expires_at=clock() + timedelta(days=14), actor=CLI,
                                    at=clock())
    mai = Chat(core, "7001", channel="telegram", name="Mai Lường")
    assert "Chào mừng Lường Thị Mai" in await mai.send("/start ABCD2345")
    return mai


async def code_from(chat: Chat, text: str = "/lienket") -> str:
    reply = await chat.send(text)
    found = CODE.search(reply)
    assert found, reply
    return found.group(0)


async def person_of(db, channel: str, external_id: str):
    async with db.read() as conn:
        return await people.person_by_identity(conn, channel, external_id)


@pytest.fixture
async def mai(core, db, clock, world):
    return await enrolled_on_telegram(core, db, clock, world)


async def test_a_code_from_telegram_makes_a_zalo_account_the_same_person(core, db, clock,
                                                                          world, mai):
    reply = await mai.send("lien ket")
    assert "15 phút" in reply and "Zalo" in reply and "/start" in reply
    code = CODE.search(reply).group(0)
    zalo = Chat(core, "z-88", channel="zalo", name="Mai")
    reply = await zalo.send(code.lower().replace("-", " "))  # typed alone, loosely
    assert "Đã liên kết" in reply and "Lường Thị Mai" in reply
    assert "Telegram «Mai Lường»" in reply
    assert "Báo cáo tháng" in zalo.options()[0]

    reply = await zalo.send("/toi")
    assert "Lường Thị Mai" in reply and "Trưởng thôn — Bản Pa Ủ" in reply
    assert "Zalo «Mai» (đang dùng)" in reply and "Telegram «Mai Lường»" in reply
    assert "Telegram «Mai Lường» (đang dùng)" in await mai.send("/toi")
    reply = await zalo.send("/baocao")
    assert "Bản Pa Ủ" in reply and "(1/10)" in reply

    person = await person_of(db, "telegram", "7001")
    assert (await person_of(db, "zalo", "z-88")).id == person.id
    async with db.read() as conn:
        linked = await audit.entries(conn, "identity", "zalo:z-88")
        codes = await audit.entries(conn, "link_code")
        stored = [r[0] for r in await conn.execute_fetchall("SELECT code_hash FROM link_codes")]
    assert [(e["action"], e["actor"], e["actor_person_id"]) for e in linked] == [
        ("link", "zalo:z-88", person.id)]
    assert [e["action"] for e in codes] == ["create", "use"]
    assert code.replace("-", "") not in " ".join(stored)  # only a hash is kept


async def test_the_other_messenger_hears_of_the_link_through_the_outbox(core, db, clock,
                                                                         config, world, mai):
    code = await code_from(mai)
    clock.advance(minutes=1)  # Zalo is the messenger used last
    await Chat(core, "z-88", channel="zalo", name="Mai").send(code)
    senders = {"telegram": FakeSender("telegram"), "zalo": FakeSender("zalo")}
    assert await Dispatcher(db, config, senders, clock).drain() == 1
    [(chat, text)] = senders["telegram"].sent  # not to Zalo, although used last
    assert chat == "7001"
    assert "Zalo «Mai» vừa được liên kết với bạn lúc 09:01 05/11/2026" in text
    assert "/lienket huy" in text
    assert senders["zalo"].sent == []


async def test_a_code_works_once_even_when_two_accounts_send_it_at_once(core, db, world, mai):
    code = await code_from(mai)
    first, second = Chat(core, "z-1", channel="zalo"), Chat(core, "z-2", channel="zalo")
    replies = await asyncio.gather(first.send(code), second.send(code))
    assert sum("Đã liên kết" in r for r in replies) == 1
    assert sum("đã được dùng" in r for r in replies) == 1
    linked = [await person_of(db, "zalo", z) for z in ("z-1", "z-2")]
    assert sum(p is not None for p in linked) == 1
    assert "đã được dùng" in await Chat(core, "z-3", channel="zalo").send(f"/start {code}")
    assert await person_of(db, "zalo", "z-3") is None


async def test_an_expired_or_replaced_code_is_refused(db, config, clock, world):
    short = Core(db, replace(config, link=LinkConfig(code_ttl_minutes=5)), clock)
    mai = await enrolled_on_telegram(short, db, clock, world)
    code = await code_from(mai)
    assert "5 phút" in mai.text
    clock.advance(minutes=6)
    zalo = Chat(short, "z-88", channel="zalo")
    assert "hết hạn" in await zalo.send(f"/lienket {code}")
    assert "chưa được đăng ký" in await zalo.send("/baocao")
    old, new = await code_from(mai), await code_from(mai)
    assert old != new
    assert "mã mới hơn" in await zalo.send(old)
    assert "Đã liên kết" in await zalo.send(new)


async def test_wrong_codes_are_refused_then_the_account_must_wait(core, db, clock, world, mai):
    code = await code_from(mai)
    zalo = Chat(core, "z-88", channel="zalo")
    for wrong in ("AAA-BBB-CCC", "AAA-BBB-CCD", "AAA-BBB-CCE", "AAA-BBB-CCF"):
        assert "không đúng" in await zalo.send(wrong)
    reply = await zalo.send("AAA-BBB-CCG")  # the fifth within the hour
    assert "quá nhiều lần" in reply and "60 phút" in reply
    clock.advance(minutes=10)
    reply = await zalo.send(code)  # even the right code, for a while
    assert "quá nhiều lần" in reply and "50 phút" in reply
    assert await person_of(db, "zalo", "z-88") is None
    assert "Đã liên kết" in await Chat(core, "z-89", channel="zalo").send(code)  # per account

    clock.advance(minutes=51)
    other = await code_from(mai)
    assert "Đã liên kết" in await zalo.send(other)


async def test_an_account_of_another_person_is_not_taken_over(core, db, clock, world, mai):
    code = await code_from(mai)
    head = Chat(core, "100")  # Lò Văn Páo, on the "test" messenger
    assert "người khác" in await head.send(f"/lienket {code}")
    assert "Lò Văn Páo" in await head.send("/toi")
    assert (await person_of(db, "test", "100")).id == world.head_id
    assert "Đã liên kết" in await Chat(core, "z-88", channel="zalo").send(code)  # still good


async def test_ones_own_accounts_asking_one_second_telegram_one_linked_one(core, world, mai):
    code = await code_from(mai)
    assert "chính là tài khoản đã xin mã" in await mai.send(code)
    phone2 = Chat(core, "7002", channel="telegram", name="Mai (máy 2)")
    assert "Đã liên kết" in await phone2.send(code)  # a second Telegram account is allowed
    again = await code_from(mai)
    assert "từ trước" in await phone2.send(again)
    assert "đã được dùng" in await Chat(core, "z-88", channel="zalo").send(again)


async def test_a_redelivered_message_changes_nothing(core, db, clock, world, mai):
    code = await code_from(mai, "/lienket")  # a first code, then a redelivered /lienket
    assert CODE.search(await mai.send("/lienket", message_id="m-tg-1"))
    code = CODE.search(mai.text).group(0)
    assert await mai.send("/lienket", message_id="m-tg-1") == ""  # no new code: the old one
    zalo = Chat(core, "z-88", channel="zalo", name="Mai")
    assert "Đã liên kết" in await zalo.send(code, message_id="m-z-1")
    assert await zalo.send(code, message_id="m-z-1") == ""
    async with db.read() as conn:
        person = await people.person_by_identity(conn, "zalo", "z-88")
        identities = await people.identities_of(conn, person.id)
        notices = [r for r in await outbox_rows(conn) if r["key"].startswith("link:")]
    assert len(identities) == 2 and len(notices) == 1


async def test_reminders_go_to_the_messenger_used_last(core, db, clock, config, world, mai):
    code = await code_from(mai)
    clock.advance(minutes=1)
    zalo = Chat(core, "z-88", channel="zalo")
    await zalo.send(code)
    person = await person_of(db, "zalo", "z-88")

    async def order(prefer="last_used"):
        async with db.read() as conn:
            return [a.channel for a in await reachable_identities(conn, person.id, prefer)]

    assert await order() == ["zalo", "telegram"]  # linked just now
    clock.advance(minutes=1)
    await mai.send("/lich")
    assert await order() == ["telegram", "zalo"]
    clock.advance(minutes=1)
    await zalo.send("/toi")
    assert await order() == ["zalo", "telegram"]
    assert await order("telegram") == ["telegram", "zalo"]

    async with db.write() as conn:
        await create_campaign(conn, key="remind:test", kind="remind", at=clock(),
                              messages=[Planned(person.id, Outbound("Nhắc báo cáo"))],
                              not_before=clock())
    senders = {"telegram": FakeSender("telegram"), "zalo": FakeSender("zalo")}
    await Dispatcher(db, config, senders, clock).drain()
    assert [text for _, text in senders["zalo"].sent] == ["Nhắc báo cáo"]
    prefer_tg = replace(config, outbox=replace(config.outbox, prefer_channel="telegram"))
    async with db.write() as conn:
        await create_campaign(conn, key="remind:test2", kind="remind", at=clock(),
                              messages=[Planned(person.id, Outbound("Nhắc lần hai"))],
                              not_before=clock())
    await Dispatcher(db, prefer_tg, senders, clock).drain()
    assert [text for _, text in senders["telegram"].sent if "Nhắc" in text] == ["Nhắc lần hai"]


async def test_unlinking_another_messenger_but_never_the_last(core, db, clock, world, mai):
    code = await code_from(mai)
    zalo = Chat(core, "z-88", channel="zalo", name="Mai")
    await zalo.send(code)
    reply = await mai.send("/lienket huy")
    assert "Chọn tài khoản" in reply
    assert mai.options()[0] == "Zalo «Mai»" and not any("Telegram" in o for o in mai.options())
    assert "Đã gỡ tài khoản Zalo «Mai»" in await mai.send("1")
    assert "chưa được đăng ký" in await zalo.send("/baocao")  # at once
    assert "không có tài khoản nào khác" in await mai.send("lien ket huy")
    assert "Bản Pa Ủ" in await mai.send("/toi")
    async with db.read() as conn:
        log = await audit.entries(conn, "identity", "zalo:z-88")
    assert [e["action"] for e in log] == ["link", "unlink"]
    assert "Đã liên kết" in await zalo.send(await code_from(mai))  # can be linked again


async def test_strangers_learn_how_to_link_and_nothing_else(core, world):
    stranger = Chat(core, "z-77", channel="zalo")
    reply = await stranger.send("/lienket")
    assert "mã liên kết" in reply and "mã mời" in reply
    reply = await stranger.send("/lienket huy")
    assert "Chọn tài khoản" not in reply and "ABC-DEF-234" in reply
    assert "chưa được đăng ký" in await stranger.send("/baocao")


def test_link_codes_and_invite_codes_differ_by_shape():
    for _ in range(2000):
        code = new_code()
        shown = f"{code[:3]}-{code[3:6]}-{code[6:]}"
        for typed in (code, shown, shown.replace("-", " "), shown.lower()):
            assert looks_like_link_code(typed) == code and looks_like_invite(typed) is None
            assert match(typed) is None  # never taken for a command
    assert looks_like_link_code("ABCD-2345") is None and looks_like_invite("ABCD-2345")


@pytest.mark.parametrize("text, setting", [
    ("code_ttl_minutes = 0", "link.code_ttl_minutes"),
    ('code_ttl_minutes = "15"', "link.code_ttl_minutes"),
    ("max_wrong_codes = 0", "link.max_wrong_codes"),
    ("wrong_codes_window_minutes = 99999", "link.wrong_codes_window_minutes"),
    ("ttl = 15", "link.ttl"),
])
def test_a_bad_link_setting_stops_the_start_up_naming_it(tmp_path, text, setting):
    assert load_config(ROOT / "config.toml", env={}).link.code_ttl_minutes == 15
    path = tmp_path / "config.toml"
    path.write_text(f"[link]\n{text}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert setting in str(caught.value)


async def test_a_code_is_claimed_once_in_storage(db, clock, world):
    async with db.write() as conn:
        code_id = await links.issue_code(conn, code="ABCDEFGHJ", person_id=world.head_id,
                                         channel="telegram", external_id="1",
                                         expires_at=clock() + timedelta(minutes=15),
                                         actor=CLI, at=clock())
    results = []
    for who in ("z-1", "z-2"):
        async with db.write() as conn:
            results.append(await links.claim_code(conn, code_id, channel="zalo",
                                                  external_id=who, actor=Actor(None, who),
                                                  at=clock()))
    assert results == [True, False]
