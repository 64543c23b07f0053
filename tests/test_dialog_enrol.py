"""Enrolment by invite code, menus and help per role."""

from __future__ import annotations

from datetime import timedelta

from storage import audit, invites, people
from storage.audit import Actor
from tests.conftest import Chat

CLI = Actor(None, "cli:test")


async def make_invite(db, clock, area, role="village_head", code="ABCD2345", days=14, name=""):
    async with db.write() as conn:
        await invites.create_invite(conn, code=code, role=role, area_id=area.id,
                                    full_name=name, expires_at=clock() + timedelta(days=days),
                                    actor=CLI, at=clock())


async def test_enrol_with_start_code_then_report(core, db, world, clock):
    await make_invite(db, clock, world.village2, name="Lường Thị Mai")
    newcomer = Chat(core, "555", name="Mai Lường")
    reply = await newcomer.send("/start ABCD-2345")
    assert "Chào mừng Lường Thị Mai" in reply and "Trưởng thôn — Bản Pa Ủ" in reply
    assert "Báo cáo tháng" in newcomer.options()[0]
    reply = await newcomer.press("Báo cáo tháng")
    assert "Bản Pa Ủ" in reply and "(1/10)" in reply
    async with db.read() as conn:
        person = await people.person_by_identity(conn, "test", "555")
        log = await audit.entries(conn, "invite", "ABCD2345")
    assert person.full_name == "Lường Thị Mai"
    assert [e["action"] for e in log] == ["create", "use"]
    assert log[1]["actor"] == "test:555"


async def test_code_typed_alone_in_lower_case(core, db, world, clock):
    await make_invite(db, clock, world.commune, role="officer", code="WXYZ2345")
    reply = await Chat(core, "556", name="Cán bộ").send("wxyz 2345")
    assert "Chào mừng Cán bộ" in reply and "Cán bộ — Xã Mường Tè" in reply


async def test_code_used_twice_or_expired_or_wrong(core, db, world, clock):
    await make_invite(db, clock, world.village2)
    await Chat(core, "557", name="Lò Văn A").send("/start ABCD2345")
    reply = await Chat(core, "558").send("/start ABCD2345")
    assert "đã được dùng" in reply
    await make_invite(db, clock, world.village2, code="EEEE2345", days=1)
    clock.advance(days=2)
    assert "hết hạn" in await Chat(core, "559").send("/start EEEE2345")
    assert "không đúng" in await Chat(core, "560").send("/start ZZZZ9999")
    assert "chưa được đăng ký" in await Chat(core, "560").send("/baocao")


async def test_known_person_gets_a_second_role(core, db, world, clock):
    await make_invite(db, clock, world.village2, code="MMMM2345")
    head = Chat(core, "100")
    reply = await head.send("/start MMMM2345")
    assert "Bản Pa Ủ" in reply
    reply = await head.send("/toi")
    assert "Bản Nà Khan" in reply and "Bản Pa Ủ" in reply
    reply = await head.send("/baocao")  # two villages now: the bot asks which
    assert "thôn nào" in reply and {"Bản Nà Khan", "Bản Pa Ủ"} <= set(head.options())


async def test_help_differs_by_role(core, world):
    head_help = await Chat(core, "100").send("/help")
    officer_help = await Chat(core, "200").send("huong dan")
    assert "/baocao 120 15 8" in head_help and "Tên thôn" not in head_help
    assert "/baocao Tên thôn" in officer_help


async def test_officer_picks_a_village_from_a_list(core, db, world):
    officer = Chat(core, "200")
    reply = await officer.send("/baocao")
    assert "thôn nào" in reply
    assert set(officer.options()) >= {"Bản Nà Khan", "Bản Pa Ủ"}
    assert "Bản Nậm Củm" not in officer.options()  # another commune
    reply = await officer.send("pa u")
    assert "Bản Pa Ủ" in reply and "(1/10)" in reply
    await officer.send("/huy")
    await officer.send("/baocao")
    reply = await officer.send("1")  # a number picks from the list
    assert "Bản Nà Khan" in reply and "(1/10)" in reply


async def test_officer_cannot_reach_a_village_outside_the_area(core, world):
    officer = Chat(core, "200")
    reply = await officer.send("/baocao Nậm Củm")
    assert "Không tìm thấy thôn" in reply
    await officer.send("/baocao")  # the list of the officer's villages
    reply = await officer.press_data(f"zz.area:{world.far_village.id}")  # forged
    assert "Nút này đã cũ" in reply and "thôn nào" in reply
    nonce = officer.last[-1].options[0].data.split(".")[0]
    reply = await officer.press_data(f"{nonce}.area:{world.far_village.id}")  # forged id
    assert "Nút này đã cũ" in reply and "Bản Nậm Củm" not in reply


async def test_a_stranger_is_saved_under_the_messengers_display_name(core, db, world, clock):
    await make_invite(db, clock, world.village2)  # an invite without a name
    reply = await Chat(core, "z777", channel="zalo", name="Mai Lường").send("ABCD-2345")
    assert reply.startswith("Chào mừng Mai Lường!")
    async with db.read() as conn:
        person = await people.person_by_identity(conn, "zalo", "z777")
    assert person.full_name == "Mai Lường"


async def test_without_any_name_the_bot_asks_for_it_before_enrolling(core, db, world, clock):
    await make_invite(db, clock, world.village2)
    newcomer = Chat(core, "k1", channel="console")  # the console has no messenger name
    reply = await newcomer.send("ABCD-2345")
    assert "Trưởng thôn — Bản Pa Ủ" in reply and "họ và tên" in reply
    async with db.read() as conn:  # nothing saved yet: the code is still unused
        assert (await invites.get_invite(conn, "ABCD2345")).used_at is None
        assert await people.person_by_identity(conn, "console", "k1") is None
    assert "họ và tên" in await newcomer.send("/baocao")  # still the question
    assert "họ và tên" in await newcomer.send("1")  # not a name
    reply = await newcomer.send("lường thị  mai")
    assert reply.startswith("Chào mừng Lường Thị Mai!")
    assert "(1/10)" in await newcomer.send("1")  # the menu of the welcome
    async with db.read() as conn:
        person = await people.person_by_identity(conn, "console", "k1")
    assert person.full_name == "Lường Thị Mai" and person.has_role("village_head")


async def test_asked_for_a_name_a_stranger_may_give_up(core, db, world, clock):
    await make_invite(db, clock, world.village2)
    newcomer = Chat(core, "k2", channel="console")
    await newcomer.send("/start ABCD-2345")
    assert "chưa được đăng ký" in await newcomer.send("/huy")
    assert "chưa được đăng ký" in await newcomer.send("Lò Văn A")  # a stranger again
    async with db.read() as conn:
        assert (await invites.get_invite(conn, "ABCD2345")).used_at is None
