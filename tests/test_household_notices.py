"""Closing the loop with people (issue 11, item 17): a village head is told when the commune
decides about a household of theirs; officers get a morning digest of what waits in /duyet.
Both go through the outbox and the dispatcher, so quiet hours and retries apply."""

from __future__ import annotations

from datetime import date

import pytest

from scheduler.dispatcher import Dispatcher
from storage import households as hh
from storage import outbox
from storage.audit import Actor
from tests.conftest import Chat

pytestmark = pytest.mark.usefixtures("world")
SETUP = Actor(None, "test:setup")


class Recorder:
    """The dispatcher's sender for the tests' channel: keeps what it was asked to send."""

    channel = "test"
    rate = 1000.0
    per_chat_interval = 0.0

    def __init__(self):
        self.sent = []

    async def send(self, chat_id, message):
        self.sent.append((chat_id, message))


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def dispatcher(db, config, clock, recorder):
    return Dispatcher(db, config, {"test": recorder}, clock)


async def delivered(dispatcher, recorder) -> dict[str, list]:
    """What the outbox sends now, by chat."""
    await dispatcher.drain()
    out: dict[str, list] = {}
    for chat_id, message in recorder.sent:
        out.setdefault(chat_id, []).append(message)
    recorder.sent.clear()
    return out


async def add(db, clock, village, code, name, status="poor"):
    async with db.write() as conn:
        return await hh.add_household(conn, village_id=village.id, code=code, head_name=name,
                                      status=status, status_since=date(2025, 1, 1),
                                      actor=SETUP, at=clock())


async def register(db, clock, household):
    async with db.write() as conn:
        return await hh.register_exit(conn, household.id, target_year=2026, plan_kind="crops",
                                      registered_on=date(2026, 11, 1), actor=SETUP, at=clock())


async def review(officer: Chat, code: str, decision: str, reason: str | None = None):
    await officer.send("/duyet")
    await officer.press(code)
    reply = await officer.press(decision)
    if reason is not None:
        reply = await officer.send(reason)
    return reply


async def test_the_head_is_told_of_each_decision_with_its_reason(core, db, world, clock,
                                                               dispatcher, recorder):
    for code in ("NK-101", "NK-102", "NK-103"):
        await register(db, clock, await add(db, clock, world.village, code, f"Hộ {code}"))
    officer = Chat(core, "200")
    await review(officer, "NK-101", "Công nhận")
    await review(officer, "NK-102", "Chưa đạt", "Thu nhập chưa ổn định")
    await review(officer, "NK-103", "Đang xem xét")  # not a decision: nobody is told
    sent = await delivered(dispatcher, recorder)
    assert set(sent) == {"100"}  # the village head of Bản Nà Khan, nobody else
    recognised, not_yet = sent["100"]
    assert "Xã đã công nhận hộ NK-101 Hộ NK-101 (Bản Nà Khan) thoát nghèo" in recognised.text
    assert "05/11/2026" in recognised.text and "Nguyễn Thị Hoa" in recognised.text
    assert "hộ mới thoát nghèo đến 05/11/2029" in recognised.text
    assert "NK-102" in not_yet.text and "chưa đạt" in not_yet.text
    assert "Lý do: Thu nhập chưa ổn định" in not_yet.text
    head = Chat(core, "100")
    head.last = [recognised]
    reply = await head.press("Xem hộ")  # the button opens the household's card
    assert "🏠 Hộ NK-101" in reply and "đã công nhận thoát nghèo" in reply
    assert await delivered(dispatcher, recorder) == {}  # one message per event, once


async def test_the_head_is_told_about_assessments_recognised_or_not(core, db, world, clock,
                                                                  dispatcher, recorder):
    for code, status in (("NK-111", "near_poor"), ("NK-112", "poor")):
        household = await add(db, clock, world.village, code, f"Hộ {code}", status)
        async with db.write() as conn:
            await hh.record_assessment(conn, household.id, year=2026,
                                       income_per_person=1_100_000 if status == "near_poor"
                                       else 1_900_000,
                                       deprived=["water", "sanitation", "telecom"],
                                       standard_name="x",
                                       suggested_status="poor" if status == "near_poor"
                                       else "average", actor=SETUP, at=clock())
    officer = Chat(core, "200")
    await review(officer, "NK-111", "Công nhận")
    await review(officer, "NK-112", "Không công nhận", "Chưa xác minh thu nhập")
    recognised, rejected = (await delivered(dispatcher, recorder))["100"]
    assert "NK-111" in recognised.text and "từ hộ cận nghèo sang hộ nghèo" in recognised.text
    assert "NK-112" in rejected.text and "không công nhận" in rejected.text
    assert "sang hộ có mức sống trung bình" in rejected.text
    assert "Lý do: Chưa xác minh thu nhập" in rejected.text


async def test_nothing_goes_out_in_the_quiet_hours(core, db, world, clock, dispatcher,
                                                 recorder):
    await register(db, clock, await add(db, clock, world.village, "NK-121", "Hộ Đêm"))
    clock.set_local("2026-11-05 22:30")
    await review(Chat(core, "200"), "NK-121", "Công nhận")
    assert await delivered(dispatcher, recorder) == {}
    clock.set_local("2026-11-06 06:59")
    assert await delivered(dispatcher, recorder) == {}
    clock.set_local("2026-11-06 07:00")
    assert "NK-121" in (await delivered(dispatcher, recorder))["100"][0].text


async def test_officers_get_one_morning_digest_with_a_button_to_review(core, db, world, clock,
                                                                     dispatcher, recorder):
    head = Chat(core, "100")
    for code in ("NK-131", "NK-132"):
        await add(db, clock, world.village, code, f"Hộ {code}")
        await head.send(f"/ho {code}")
        await head.press("Đăng ký thoát nghèo")
        for answer in ("2027",):
            await head.send(answer)
        await head.press("Chăn nuôi")
        await head.press("Bỏ qua")
        await head.press("Xong")
        await head.press("Hôm nay")
        assert "Đã ghi nhận hộ đăng ký" in await head.press("Gửi")
    await add(db, clock, world.village, "NK-133", "Hộ Ba", status="near_poor")
    await head.send("/ho NK-133")
    await head.press("Cập nhật thu nhập")
    await head.send("1tr")
    for n in range(12):
        await head.send("có" if n < 4 else "không")
    assert "sang hộ nghèo" in await head.press("Gửi")
    assert await delivered(dispatcher, recorder) == {}  # not one message per item
    clock.set_local("2026-11-06 08:00")  # the next morning, at the calendar's send time
    sent = await delivered(dispatcher, recorder)
    assert set(sent) == {"200"}  # the commune officer; the province officer is not bothered
    (digest,) = sent["200"]
    assert "3 việc mới chờ duyệt" in digest.text and "Xã Mường Tè" in digest.text
    assert "2 đăng ký thoát nghèo" in digest.text and "1 đề xuất phân loại hộ" in digest.text
    officer = Chat(core, "200")
    officer.last = [digest]
    reply = await officer.press("Mở danh sách duyệt")
    assert "Có 3 việc chờ duyệt" in reply
    clock.set_local("2026-11-07 08:00")
    assert await delivered(dispatcher, recorder) == {}  # nothing new: no second digest


async def test_a_digest_follows_the_queue_until_it_goes_out(core, db, world, clock, dispatcher,
                                                          recorder):
    head = Chat(core, "100")
    for code in ("NK-141", "NK-142"):
        await add(db, clock, world.village, code, f"Hộ {code}")
        await head.send(f"/ho {code}")
        await head.press("Đăng ký thoát nghèo")
        await head.send("2027")
        await head.press("Trồng trọt")
        await head.press("Bỏ qua")
        await head.press("Xong")
        await head.press("Hôm nay")
        await head.press("Gửi")
    officer = Chat(core, "200")
    await review(officer, "NK-141", "Công nhận")  # decided before the digest goes out
    clock.set_local("2026-11-06 08:00")
    (digest,) = (await delivered(dispatcher, recorder))["200"]
    assert "1 việc mới chờ duyệt" in digest.text and "1 đăng ký thoát nghèo" in digest.text
    await head.send("/huy")
    clock.set_local("2026-11-06 09:00")
    await review(officer, "NK-142", "Công nhận")
    async with db.read() as conn:
        rows = await outbox.outbox_rows(conn)
    digests = [r for r in rows if r[1].startswith("review-digest:")]
    assert [r[4] for r in digests] == ["sent"]


async def test_a_digest_that_has_nothing_left_is_dropped(core, db, world, clock, dispatcher,
                                                       recorder):
    head = Chat(core, "100")
    await add(db, clock, world.village, "NK-151", "Hộ Một")
    await head.send("/ho NK-151")
    await head.press("Đăng ký thoát nghèo")
    await head.send("2027")
    await head.press("Trồng trọt")
    await head.press("Bỏ qua")
    await head.press("Xong")
    await head.press("Hôm nay")
    await head.press("Gửi")
    await review(Chat(core, "200"), "NK-151", "Công nhận")
    clock.set_local("2026-11-06 08:00")
    sent = await delivered(dispatcher, recorder)
    assert "200" not in sent  # the officer already did it: no stale "1 việc chờ duyệt"


async def test_not_yet_leaves_the_queue_until_the_head_asks_again(core, db, world, clock,
                                                                dispatcher, recorder):
    await register(db, clock, await add(db, clock, world.village, "NK-161", "Hộ Sáu Một"))
    officer = Chat(core, "200")
    reply = await review(officer, "NK-161", "Chưa đạt", "Chưa có sinh kế ổn định")
    assert "Không còn việc nào chờ duyệt" in reply  # decided for now: it does not wait
    head = Chat(core, "100")
    reply = await head.send("/ho NK-161")
    assert "chưa đạt" in reply and "Lý do: Chưa có sinh kế ổn định" in reply
    assert "Đăng ký thoát nghèo" not in " ".join(head.options())  # one is still open
    reply = await head.press("Đề nghị xét lại")
    assert "Đã đề nghị xã xét lại" in reply and "đang xem xét" in reply
    await head.press("Xong")
    assert "Có 1 việc chờ duyệt" in await officer.send("/duyet")
    await officer.send("/huy")
    clock.set_local("2026-11-06 08:00")
    sent = await delivered(dispatcher, recorder)
    assert "1 việc mới chờ duyệt" in sent["200"][0].text
