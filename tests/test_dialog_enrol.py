"""Enrolment by invite code, menus and help per role."""

from __future__ import annotations

from datetime import timedelta

from storage import audit, invites, people
from storage.audit import Actor
from storage.outbox import decode_message
from storage.query import fetch_all
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


async def test_known_person_gets_a_second_role_once_they_confirm(core, db, world, clock):
    await make_invite(db, clock, world.village2, code="MMMM2345")
    head = Chat(core, "100")
    reply = await head.send("/start MMMM2345")
    assert "cho thêm quyền" in reply and "Trưởng thôn — Bản Pa Ủ" in reply
    assert "Hiện bạn đang có:\n• Trưởng thôn — Bản Nà Khan" in reply
    assert head.options() == ["✅ Có, nhận thêm quyền", "❌ Không nhận"]
    reply = await head.press("Có")
    assert "Đã thêm quyền cho bạn:\n• Trưởng thôn — Bản Pa Ủ" in reply
    reply = await head.send("/toi")
    assert "Bản Nà Khan" in reply and "Bản Pa Ủ" in reply
    reply = await head.send("/baocao")  # two villages now: the bot asks which
    assert "thôn nào" in reply and {"Bản Nà Khan", "Bản Pa Ủ"} <= set(head.options())
    async with db.read() as conn:
        log = await audit.entries(conn, "invite", "MMMM2345")
    assert [e["action"] for e in log] == ["create", "use"] and log[1]["actor"] == "test:100"


async def test_a_code_for_a_role_held_already_is_not_spent(core, db, world, clock):
    await make_invite(db, clock, world.village, code="NNNN2345")
    assert "đã có quyền này rồi" in await Chat(core, "100").send("NNNN-2345")
    async with db.read() as conn:
        assert (await invites.get_invite(conn, "NNNN2345")).used_at is None


async def add_admin(db, clock, area, ext="900", name="Quản Trị Viên"):
    async with db.write() as conn:
        pid = await people.create_person(conn, name, actor=CLI, at=clock())
        await people.link_identity(conn, pid, channel="test", external_id=ext, chat_id=ext,
                                   display_name=name, actor=CLI, at=clock())
        await people.grant_role(conn, pid, "admin", area, actor=CLI, at=clock())
    return pid


async def planned_for(db, kind="grant") -> dict[int, str]:
    async with db.read() as conn:
        rows = await fetch_all(conn, "SELECT o.person_id, o.message FROM outbox o JOIN campaigns"
                               " c ON c.id = o.campaign_id WHERE c.kind = ?", (kind,))
    return {r[0]: decode_message(r[1]).text for r in rows}


async def test_the_new_area_is_out_of_sight_until_confirmed_then_the_admin_and_inviter_are_told(
        core, db, world, clock):
    # The officer of Mường Tè sends an unused officer code of another commune (Bum Nưa): not a
    # silent privilege. Until they say yes they see nothing of Bum Nưa; on yes the province's
    # admin and the officer who made the code hear of it (by the outbox), the person not.
    admin = await add_admin(db, clock, world.province)
    commune_admin = await add_admin(db, clock, world.other_commune, ext="901", name="Ở Bum Nưa")
    other_admin = await add_admin(db, clock, world.village2, ext="902", name="Ở Bản Pa Ủ")
    async with db.write() as conn:  # an invite made in the chat by the province's officer
        await invites.create_invite(conn, code="BUMN2345", role="officer",
                                    area_id=world.other_commune.id, full_name="",
                                    expires_at=clock() + timedelta(days=14),
                                    actor=Actor(world.province_officer_id, "test:300"),
                                    at=clock())
    officer = Chat(core, "200", name="Hoa")
    assert "Không tìm thấy thôn" in await officer.send("/baocao Nậm Củm")
    reply = await officer.send("BUMN-2345")
    assert "Cán bộ — Xã Bum Nưa" in reply and "Cán bộ — Xã Mường Tè" in reply
    reply = await officer.send("/baocao Nậm Củm")  # not yet theirs: the question again
    assert "(1/10)" not in reply and "Bạn có muốn nhận thêm quyền này không?" in reply
    async with db.read() as conn:
        person = await people.get_person(conn, world.officer_id)
    assert not person.can_see(world.far_village)
    assert await planned_for(db) == {}
    reply = await officer.send("có")
    assert "Đã thêm quyền cho bạn:\n• Cán bộ — Xã Bum Nưa" in reply
    assert "Bản Nậm Củm" in await officer.send("/baocao Nậm Củm")
    told = await planned_for(db)
    # The admins over Bum Nưa and the inviter; not an admin elsewhere, not the person.
    assert set(told) == {admin, commune_admin, world.province_officer_id}
    assert other_admin not in told and world.officer_id not in told
    notice = told[admin]
    assert "Nguyễn Thị Hoa" in notice and "BUMN-2345" in notice
    assert "• Cán bộ — Xã Bum Nưa" in notice and "• Cán bộ — Xã Mường Tè" in notice


async def test_saying_no_keeps_the_code_for_the_person_it_was_made_for(core, db, world, clock):
    await add_admin(db, clock, world.province)
    await make_invite(db, clock, world.village2, code="PPPP2345", name="Lường Thị Mai")
    head = Chat(core, "100")
    await head.send("/start PPPP2345")
    reply = await head.send("gì vậy")  # neither yes nor no: asked again
    assert "Vui lòng bấm «Có»" in reply and "Bạn có muốn nhận thêm quyền" in reply
    reply = await head.press("Không")
    assert "không nhận thêm quyền" in reply and "chưa bị dùng" in reply
    assert await planned_for(db) == {}
    reply = await Chat(core, "777", name="Mai").send("/start PPPP2345")
    assert "Chào mừng Lường Thị Mai" in reply


async def test_a_code_used_by_someone_else_while_asked_is_not_granted(core, db, world, clock):
    await make_invite(db, clock, world.village2, code="QQQQ2345")
    head = Chat(core, "100")
    await head.send("QQQQ2345")
    await Chat(core, "778", name="Lò Văn Dơ").send("QQQQ2345")
    assert "đã được dùng" in await head.press("Có")
    async with db.read() as conn:
        assert not (await people.get_person(conn, world.head_id)).can_see(world.village2)


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


# ---- guessing codes: throttled per account and over all accounts (handlers/enrol.py) ------

WRONG = [f"WRNG{n:04d}".translate(str.maketrans("01", "89")) for n in range(2000)]


async def test_one_account_guessing_is_stopped_after_five_wrong_codes(core, db, world, clock):
    await make_invite(db, clock, world.village2, code="GQQD2345", name="Lường Thị Mai")
    guesser = Chat(core, "666", name="Kẻ Đoán")
    for code in WRONG[:4]:
        assert "Mã mời không đúng" in await guesser.send(code)
        clock.advance(seconds=20)
    reply = await guesser.send(WRONG[4])  # the fifth: said at once, with how long
    assert "sai mã mời 5 lần trong 10 phút vừa qua" in reply and "sau 9 phút" in reply
    reply = await guesser.send("GQQD-2345")  # even the right code is not looked up now
    assert "thử lại sau" in reply and "Chào mừng" not in reply
    async with db.read() as conn:
        assert await people.person_by_identity(conn, "test", "666") is None
    # Someone else's right code still works while this account waits.
    assert "Chào mừng Lường Thị Mai" in await Chat(core, "667").send("/start GQQD2345")
    await make_invite(db, clock, world.village2, code="RATE2345", name="Tao Văn Sinh")
    clock.advance(minutes=8)  # 9 min 20 s after the first wrong code
    assert "thử lại sau 1 phút" in await guesser.send("RATE2345")
    clock.advance(minutes=1)  # the oldest wrong code is 10 minutes old: one more try
    assert "Chào mừng Tao Văn Sinh" in await guesser.send("RATE2345")


async def test_many_accounts_guessing_together_are_capped_each_minute(core, db, world, clock):
    # A botnet: 50 accounts, each a wrong code a second. Over 10 minutes, codes looked up stay
    # at 20 a minute plus each account's first try; the right code of a person who never
    # tried gets in during the attack; the accounts that guessed wait.
    await make_invite(db, clock, world.village2, code="REAM2345", name="Lò Thị Mai")
    bots = [Chat(core, f"b{n}", name=f"Bot {n}") for n in range(50)]
    guesses, everyone = iter(WRONG), 0
    for second in range(600):
        clock.advance(seconds=1)
        reply = await bots[second % len(bots)].send(next(guesses))
        if "quá nhiều lượt gửi mã mời sai" in reply:
            everyone += 1
        else:
            assert "Mã mời không đúng" in reply or "sai mã mời" in reply, reply
    async with db.read() as conn:  # each code looked up and not found is one row
        looked_up = (await fetch_all(conn, "SELECT count(*) FROM invite_failures"))[0][0]
    assert 150 <= looked_up <= 20 * 10 + 50, looked_up
    assert everyone > 300
    # Mid-attack (the cap reached this minute), a newcomer's right code is read.
    for bot in bots[:25]:
        await bot.send(next(guesses))
    assert "Chào mừng Lò Thị Mai" in await Chat(core, "newcomer").send("REAM-2345")
