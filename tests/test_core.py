"""The core itself: who is behind a message (the person cache), menus answered by typing,
the busy answer, strangers."""

from __future__ import annotations

from common.messages import Inbound, Outbound
from handlers.core import DIALOGS, PERSON_TTL
from storage import outbox, people
from storage.dialogs import DialogState, save_dialog
from storage.query import fetch_one
from tests.conftest import SETUP, Chat
from tests.test_dialog_enrol import make_invite
from tests.test_zalo import api, channel, zalo_config  # noqa: F401  (fixtures)


async def blocked_at(db, messenger: str, external_id: str):
    async with db.read() as conn:
        row = await fetch_one(conn, "SELECT blocked_at FROM identities WHERE channel = ?"
                              " AND external_id = ?", (messenger, external_id))
    return row[0]


# ---- the person cache -----------------------------------------------------------------------


async def test_writing_unblocks_even_while_the_person_is_cached(core, db, world, clock):
    head = Chat(core, "100")
    await head.send("/toi")  # cached from now on
    async with db.write() as conn:  # the dispatcher's send was refused: marked blocked
        await outbox.mark_blocked(conn, "test", "100", clock())
    assert await blocked_at(db, "test", "100") is not None
    clock.advance(seconds=5)
    await head.send("/toi")  # within PERSON_TTL of the previous message
    assert await blocked_at(db, "test", "100") is None


async def test_a_steady_chatter_is_unblocked_and_sees_changes_made_elsewhere(
        core, db, world, clock, monkeypatch):
    head = Chat(core, "100")
    ticks = [0.0]
    monkeypatch.setattr("handlers.core.time.monotonic", lambda: ticks[0])
    await head.send("/toi")
    async with db.write() as conn:  # elsewhere (the command line): a second role
        await people.grant_role(conn, world.head_id, "village_head", world.village2,
                                actor=SETUP, at=clock())
        await outbox.mark_blocked(conn, "test", "100", clock())
    for _ in range(int(PERSON_TTL // 20) + 2):  # a message every 20 s, for longer than the TTL
        ticks[0] += 20
        reply = await head.send("/toi")
    assert await blocked_at(db, "test", "100") is None
    assert "Bản Pa Ủ" in reply  # the cached person was refreshed after PERSON_TTL


async def test_a_redelivered_message_still_counts_as_the_person_writing(core, db, world, clock):
    head = Chat(core, "100")
    await head.send("/toi", message_id="same")
    async with db.write() as conn:
        await outbox.mark_blocked(conn, "test", "100", clock())
    assert await core.handle(Inbound("test", "100", "100", "same", text="/toi")) == []
    assert await blocked_at(db, "test", "100") is None


# ---- menus answered by typing -----------------------------------------------------------------


async def test_right_after_enrolment_the_menu_is_answered_by_number(core, db, world, clock):
    await make_invite(db, clock, world.village2, name="Lường Thị Mai")
    newcomer = Chat(core, "z555", channel="zalo", name="Mai")
    reply = await newcomer.send("ABCD-2345")
    assert "Chào mừng Lường Thị Mai" in reply
    assert newcomer.last[-1].options[0].label == "📝 Báo cáo tháng"
    reply = await newcomer.send("1")
    assert "Báo cáo tháng 10/2026 — Bản Pa Ủ" in reply and "(1/10)" in reply


async def test_after_lich_report_now_typed_chooses_from_its_buttons(core, db, world, clock):
    clock.set_local("2026-12-03 09:00")  # the monthly report of November and the yearly one
    head = Chat(core, "100")
    await head.send("/lich")
    menu = head.last[-1]
    assert [o.label for o in menu.options] == [
        "📝 Báo cáo ngay: Báo cáo tổng kết năm 2026", "📝 Báo cáo ngay: Báo cáo tháng 11/2026"]
    assert not menu.free_input  # a numbered list on Zalo and the console
    reply = await head.send("bao cao ngay")  # two buttons say so: which one?
    assert "Bạn muốn chọn mục nào" in reply and "thôn của mình" not in reply
    assert [o.label for o in head.last[-1].options] == [o.label for o in menu.options]
    reply = await head.send("2")
    assert "Báo cáo tháng 11/2026 — Bản Nà Khan" in reply and "(1/10)" in reply
    await head.send("/huy")
    await head.send("/lich")
    reply = await head.send("Báo cáo ngay: báo cáo tổng kết năm 2026")
    assert "năm 2026" in reply and "thôn của mình" not in reply


async def test_lich_says_when_reminders_come_in_words(core, world):
    reply = await Chat(core, "100").send("/lich")
    assert ("nhắc 3 ngày trước hạn, đúng ngày hạn, 2 ngày sau hạn; khóa sổ ngày 10."
            in reply), reply
    assert "+0" not in reply


async def test_report_now_typed_without_a_menu_is_the_report(core, world, clock):
    clock.set_local("2026-12-03 09:00")
    reply = await Chat(core, "100").send("bao cao ngay")
    assert "thôn của mình" not in reply and "(1/10)" in reply


# ---- the busy answer ----------------------------------------------------------------------


class _FreeQuestion:
    """A dialog whose question has no buttons (a free text answer)."""

    @staticmethod
    async def ask(ctx, state):
        return [Outbound("Ghi chú của bạn?")]

    @staticmethod
    async def answer(ctx, state, answer):
        return None, [Outbound(f"Đã ghi: {answer.text}")]


async def test_the_busy_answer_always_offers_a_way_out(core, db, world, clock, monkeypatch):
    monkeypatch.setitem(DIALOGS, "note", _FreeQuestion)
    async with db.write() as conn:
        await save_dialog(conn, "test", "100", DialogState("note", "text", {}), clock())
    head = Chat(core, "100")
    reply = await head.press_data("cmd:report 10/2026")  # a reminder's button, mid-dialog
    assert reply.startswith("Bạn đang làm dở một việc.") and "Ghi chú của bạn?" in reply
    assert head.options() == ["⏹ Dừng việc đang làm"]
    reply = await head.press("Dừng việc đang làm")
    assert "Đã hủy" in reply and "Báo cáo tháng" in head.options()[0]
    reply = await head.press_data("cmd:report 10/2026")  # the button works after the dialog
    assert "Báo cáo tháng 10/2026" in reply and "(1/10)" in reply


async def test_stop_typed_on_zalo_ends_the_dialog_and_a_typed_answer_stays_an_answer(
        core, db, world, clock, monkeypatch):
    monkeypatch.setitem(DIALOGS, "note", _FreeQuestion)
    head = Chat(core, "100")
    for typed, expected in (("dung viec dang lam", "Đã hủy"), ("Mưa to", "Đã ghi: Mưa to")):
        async with db.write() as conn:
            await save_dialog(conn, "test", "100", DialogState("note", "text", {}), clock())
        await head.send("/ho")
        assert head.options() == ["⏹ Dừng việc đang làm"]
        assert expected in await head.send(typed)


async def test_a_question_with_its_own_cancel_gets_no_second_one(core, world):
    head = Chat(core, "100")
    await head.send("/baocao")
    await head.send("/toi")
    assert head.options().count("❌ Hủy") == 1 and "⏹ Dừng việc đang làm" not in head.options()


# ---- on the real Zalo channel -----------------------------------------------------------------


async def test_on_zalo_a_newcomer_answers_the_welcome_menu_by_number(  # noqa: F811
        channel, api, db, world, clock):  # noqa: F811
    from tests.test_zalo import ZaloUser

    await make_invite(db, clock, world.village2)
    newcomer = ZaloUser(channel, api, clock, "z-new", name="Lường Thị Mai")
    reply = await newcomer.send("ABCD-2345")
    assert reply.startswith("Chào mừng Lường Thị Mai!") and "\n1. 📝 Báo cáo tháng" in reply
    reply = await newcomer.send("1")
    assert "Báo cáo tháng 10/2026 — Bản Pa Ủ" in reply and "(1/10)" in reply


# ---- commands in the middle of a dialog (the rule in handlers/core.py) -------------------------


async def test_the_command_that_opened_a_list_sent_again_starts_it_again(core, world):
    officer = Chat(core, "200")
    await officer.send("/baocao")
    assert "Báo cáo cho thôn nào?" in officer.text
    reply = await officer.send("/baocao")  # nothing chosen yet: start again, not "busy"
    assert "đang làm dở" not in reply and "Báo cáo cho thôn nào?" in reply
    reply = await officer.send("/baocao Pa U")  # and with arguments, as typed now
    assert "đang làm dở" not in reply and "Báo cáo tháng 10/2026 — Bản Pa Ủ" in reply


async def test_read_only_commands_are_answered_and_the_question_asked_again(core, world):
    head = Chat(core, "100")
    await head.send("/baocao")
    await head.send("120")
    for command, answered in (("/toi", "Lò Văn Páo"), ("/lich", "Lịch báo cáo"),
                              ("/help", "/baocao")):
        reply = await head.send(command)
        assert "Bạn đang làm dở một việc" not in reply and answered in reply, command
        assert head.last[-1].text.startswith("(2/10) Số hộ nghèo"), command
        # Only the question's buttons: /lich's own would start something else.
        assert "Báo cáo ngay" not in " ".join(head.options()), command
    assert "(3/10)" in await head.send("15")  # the form goes on where it was
    reply = await head.press("Hủy")  # and the question's buttons still work
    assert "Đã hủy" in reply


async def test_another_dialog_or_the_same_one_after_an_answer_stays_busy(core, world):
    head = Chat(core, "100")
    await head.send("/baocao")
    await head.send("120")
    reply = await head.send("/ho")  # another dialog mid-form: busy, with the form's buttons
    assert reply.startswith("Bạn đang làm dở một việc.") and "(2/10)" in reply
    assert "❌ Hủy" in head.options()
    await head.send("/huy")
    await head.send("/baocao 120 15 8 2 1 0 3 10 5tr")
    await head.press("Sửa")  # a list now, but the figures typed are in the dialog
    reply = await head.send("/baocao")
    assert reply.startswith("Bạn đang làm dở một việc.") and "Sửa mục nào?" in reply


async def test_a_photo_with_a_caption_is_read_as_its_text(core, world):
    head = Chat(core, "100")
    reply = await head._deliver(Inbound("test", "100", "100", "p1", kind="image",
                                        text="/baocao 120 15 8 2 1 0 3 10 5tr"))
    assert "chỉ đọc được tin nhắn chữ" not in reply and "Gửi báo cáo này?" in reply
    assert "không lưu ảnh" in reply  # so nobody thinks the photo went with the report
    reply = await head._deliver(Inbound("test", "100", "100", "p2", kind="image"))
    assert "chỉ đọc được tin nhắn chữ" in reply and "Gửi báo cáo này?" in reply


# ---- a question that never reached the person (issue 12, item 3) ----------------------------

UNDELIVERED = "Xin lỗi, câu hỏi trước chưa tới được bạn:"


class LossyChat(Chat):
    """A chat whose channel cannot deliver the next reply: it gives it back to the core, as
    the adapters do (``Core.undelivered``), and the person sees nothing of it."""

    lose_next = False

    async def _deliver(self, inbound: Inbound) -> str:
        replies = await self.core.handle(inbound)
        if self.lose_next:
            self.lose_next = False
            await self.core.undelivered(inbound, replies)
            self.last = []
        else:
            self.last = replies
        return self.text


async def saved_report(db, area):
    from storage.reports import MONTHLY_FORM, current_report

    async with db.read() as conn:
        return await current_report(conn, area.id, MONTHLY_FORM, "2026-10")


async def test_an_answer_retyped_after_a_lost_question_is_not_taken_for_the_next_one(
        core, db, world):
    head = LossyChat(core, "100")
    await head.send("/baocao")
    head.lose_next = True
    assert await head.send("261") == ""  # stored; «(2/10) Số hộ nghèo» never arrived
    reply = await head.send("261")  # nothing came: the same answer again
    assert reply.startswith(UNDELIVERED) and "(2/10) Số hộ nghèo" in reply
    assert "(3/10)" in await head.send("15")  # the form did not shift
    for answer in ("8", "0", "0", "0", "3", "10", "0"):
        await head.send(answer)
    await head.press("Bỏ qua")
    await head.press("Gửi")
    report = await saved_report(db, world.village)
    assert report.data["total"] == 261 and report.data["poor"] == 15
    assert report.data["near_poor"] == 8


async def test_a_question_that_arrived_late_is_asked_again_only_once(core, db, world):
    head = LossyChat(core, "100")
    await head.send("/baocao")
    head.lose_next = True
    await head.send("120")
    await head.send("15")  # not taken: the question again
    assert "(3/10)" in await head.send("15")  # this time it is the answer it was meant for


async def test_a_button_of_the_lost_question_proves_it_arrived(core, db, world):
    """A reply given up after a time-out may have arrived after all: pressing its button is
    an answer to a question the person saw."""
    head = LossyChat(core, "100")
    for answer in ("/baocao", "120", "15", "8"):
        await head.send(answer)
    asked = head.last  # «(4/10)», with its buttons, then given back as not delivered
    await core.undelivered(Inbound("test", "100", "100", "x"), asked)
    none = next(o.data for m in asked for o in m.options if "không có" in o.label)
    assert "(5/10)" in await head.press_data(none)


async def test_a_lost_reply_to_an_older_question_changes_nothing(core, db, world):
    head = LossyChat(core, "100")
    await head.send("/baocao")
    first = head.last
    await head.send("120")
    await core.undelivered(Inbound("test", "100", "100", "x"), first)  # a late report
    assert "(3/10)" in await head.send("15")


async def test_commands_and_cancel_still_work_while_the_question_is_lost(core, db, world):
    head = LossyChat(core, "100")
    await head.send("/baocao")
    head.lose_next = True
    await head.send("120")
    reply = await head.send("/toi")  # answered, and the question asked again
    assert "Lò Văn Páo" in reply and head.last[-1].text.startswith("(2/10)")
    assert "(3/10)" in await head.send("15")
    head.lose_next = True
    await head.send("8")
    assert "Đã hủy" in await head.send("/huy")


async def test_a_lost_menu_does_not_choose_for_a_typed_number(core, db, world):
    head = LossyChat(core, "100")
    head.lose_next = True
    await head.send("/toi")  # its menu never arrived
    reply = await head.send("1")
    assert "(1/10)" not in reply and "chưa hiểu" in reply  # the menu is shown now
    assert "(1/10)" in await head.send("1")


async def test_a_free_text_question_is_marked_too(core, db, world, clock, monkeypatch):
    monkeypatch.setitem(DIALOGS, "note", _FreeQuestion)
    async with db.write() as conn:
        await save_dialog(conn, "test", "100", DialogState("note", "text", {}), clock())
    head = LossyChat(core, "100")
    head.lose_next = True
    await head.send("/toi")  # «Ghi chú của bạn?» again, lost
    reply = await head.send("Mưa to")
    assert reply.startswith(UNDELIVERED) and "Ghi chú của bạn?" in reply
    assert "Đã ghi: Mưa to" in await head.send("Mưa to")


async def test_the_normal_case_costs_no_extra_database_trip(core, db, world, monkeypatch):
    """Only a reply that failed costs a write; a delivered one costs nothing after the
    message's own transaction."""
    head = Chat(core, "100")
    await head.send("/baocao")
    writes = []
    opened = db.write

    def counting(*args, **kwargs):
        writes.append(1)
        return opened(*args, **kwargs)

    monkeypatch.setattr(db, "write", counting)
    await head.send("120")
    await core.undelivered(Inbound("test", "100", "100", "x"), [])  # nothing failed
    assert writes == []
