"""A village's household list drives its monthly report only once it is complete (issue 11,
item 4): marked complete by the head or an officer (recorded, audited), or as many
households as the total reported. Until then it is shown as "n of N households listed"."""

from __future__ import annotations

from datetime import date

import pytest

from storage import areas, audit
from storage import households as hh
from storage.audit import Actor
from tests.conftest import Chat

pytestmark = pytest.mark.usefixtures("world")
SETUP = Actor(None, "test:setup")
HEAD = Actor(1, "test:100")


async def add(db, clock, village, code, status="poor", **flags):
    async with db.write() as conn:
        return await hh.add_household(conn, village_id=village.id, code=code,
                                      head_name=f"Chủ hộ {code}", status=status,
                                      status_since=date(2025, 1, 1), actor=SETUP, at=clock(),
                                      **flags)


async def reported_134(head, clock):
    """September's report of a 134-household village (22 poor), sent on 4 October; then
    the clock on 5 November (October's report is due)."""
    clock.set_local("2026-10-04 10:00")
    await head.send("/baocao 9/2026 134 22 13 0 0 0 16 21 2tr")
    await head.press("Gửi")
    clock.set_local("2026-11-05 10:00")


# ---- storage ------------------------------------------------------------------------------

async def test_a_list_is_not_complete_until_someone_says_so(db, world, clock):
    await add(db, clock, world.village, "NK-1")
    async with db.read() as conn:
        state = await hh.household_list(conn, world.village.id, "2026-11")
    assert state.households == 1 and not state.complete and state.marked_at is None
    assert state.figures["total"] == 1 and state.figures["poor"] == 1
    async with db.write() as conn:
        marked = await hh.mark_household_list(conn, world.village.id, complete=True,
                                              actor=HEAD, at=clock())
    assert marked.complete and marked.marked_by == 1 and marked.marked_by_name == "Lò Văn Páo"
    assert marked.marked_at == clock().replace(microsecond=0)
    async with db.write() as conn:
        again = await hh.mark_household_list(conn, world.village.id, complete=False,
                                             actor=SETUP, at=clock())
    assert not again.complete and again.marked_by is None
    async with db.read() as conn:
        entries = await audit.entries(conn, "household_list", world.village.id)
    assert [(e["action"], e["actor"]) for e in entries] == [
        ("mark_complete", "test:100"), ("mark_incomplete", "test:setup")]
    assert entries[0]["before"] == {"complete": False} and entries[0]["after"] == {
        "complete": True, "households": 1}


async def test_a_village_without_households_has_an_empty_list(db, world):
    async with db.read() as conn:
        state = await hh.household_list(conn, world.far_village.id, "2026-11")
    assert state.households == 0 and not state.complete and state.figures["total"] == 0


# ---- the monthly report --------------------------------------------------------------------

async def test_a_partial_list_does_not_take_over_the_report(core, db, world, clock):
    head = Chat(core, "100")
    await reported_134(head, clock)
    await add(db, clock, world.village, "NK-1")
    reply = await head.send("/baocao")
    assert "Theo danh sách hộ của thôn" not in reply
    assert "1 trong 134 hộ" in reply and "Tháng trước: 134" in reply
    reply = await head.send("/huy")
    reply = await head.send("/baocao 134 22 13 0 0 0 16 21 2tr")
    assert "danh sách hộ của thôn cho" not in reply and "Gửi báo cáo này?" in reply


async def test_a_list_marked_complete_drives_the_report(core, db, world, clock):
    head = Chat(core, "100")
    await reported_134(head, clock)
    for n in range(3):
        await add(db, clock, world.village, f"NK-{n}", ethnic_minority=True)
    await head.send("/ho")
    reply = await head.press("Danh sách hộ")
    assert "Danh sách hộ của Bản Nà Khan: 3 trong 134 hộ" in reply
    reply = await head.press("Danh sách hộ đã đủ")
    assert "Xác nhận danh sách hộ của Bản Nà Khan đã có đủ mọi hộ" in reply
    assert "báo cáo tháng gần nhất ghi tổng số 134 hộ" in reply
    reply = await head.press("Đúng, danh sách đã đủ")
    assert "Đã ghi: danh sách hộ của Bản Nà Khan đã đầy đủ (3 hộ)" in reply
    async with db.read() as conn:
        (entry,) = await audit.entries(conn, "household_list", world.village.id)
    assert entry["actor_person_id"] == world.head_id
    await head.send("/huy")
    reply = await head.send("/baocao")
    assert "Số liệu gợi ý lấy từ danh sách hộ" in reply
    assert "Theo danh sách hộ của thôn: 3" in reply
    reply = await head.send("134")
    assert "bạn gõ 134, nhưng danh sách hộ của thôn cho 3" in reply


async def test_a_list_as_large_as_the_reported_total_drives_the_report(core, db, world, clock):
    head = Chat(core, "100")
    clock.set_local("2026-10-04 10:00")
    await head.send("/baocao 3 2 1 0 0 0 1 1 0")
    await head.press("Gửi")
    clock.set_local("2026-11-05 10:00")
    for n in range(3):
        await add(db, clock, world.village, f"NK-{n}", status="near_poor" if n else "poor")
    reply = await head.send("/baocao")
    assert "Theo danh sách hộ của thôn: 3" in reply and "Số liệu gợi ý lấy từ danh sách" in reply


async def test_a_typed_total_equal_to_the_list_brings_it_in(core, db, world, clock):
    for n in range(3):
        await add(db, clock, world.village, f"NK-{n}")
    head = Chat(core, "100")
    reply = await head.send("/baocao")
    assert "3 hộ" in reply and "Theo danh sách hộ của thôn" not in reply
    reply = await head.send("3")
    assert "Theo danh sách hộ của thôn: 3" in reply and "(2/10)" in reply
    reply = await head.send("2")
    assert "bạn gõ 2, nhưng danh sách hộ của thôn cho 3" in reply


async def test_only_the_head_and_officers_above_may_mark_a_list(core, db, world, clock):
    await add(db, clock, world.village, "NK-1")
    far_head = Chat(core, "400")
    reply = await far_head.send("/ho")
    assert "Bản Nà Khan" not in reply
    officer = Chat(core, "200")
    await officer.send("/ho")
    await officer.press("Danh sách hộ")
    assert officer.options()[:2] == ["Bản Nà Khan — 1 hộ, chưa xác nhận",
                                     "Bản Pa Ủ — chưa có hộ nào"]
    reply = await officer.press("Bản Nà Khan")
    assert "Danh sách hộ của Bản Nà Khan: 1 hộ" in reply
    await officer.press("Danh sách hộ đã đủ")
    reply = await officer.press("Đúng, danh sách đã đủ")
    assert "đã đầy đủ (1 hộ)" in reply and "Nguyễn Thị Hoa" in reply
    assert "Báo cáo tháng" in officer.options()[0]  # done: the dialog has ended
    await officer.send("/ho")
    await officer.press("Danh sách hộ")
    await officer.press("Bản Nà Khan")
    reply = await officer.press("Chưa đủ")
    assert "chưa đầy đủ" in reply
    async with db.read() as conn:
        state = await hh.household_list(conn, world.village.id, "2026-11")
    assert not state.complete and state.marked_by == world.officer_id


async def test_an_officer_s_villages_are_paged_those_with_a_list_first(core, db, world, clock):
    async with db.write() as conn:
        for n in range(1, 12):
            await areas.add_area(conn, parent=world.commune, level="village",
                                 name=f"Bản Xóm {n:02d}", actor=SETUP, at=clock())
    xom = {a.name: a for a in await _villages(db, world.commune)}
    await add(db, clock, world.village2, "PU-1")
    await add(db, clock, world.village2, "PU-2")
    await add(db, clock, xom["Bản Xóm 05"], "X-1")
    async with db.write() as conn:
        await hh.mark_household_list(conn, world.village2.id, complete=True, actor=SETUP,
                                     at=clock())
    officer = Chat(core, "200")
    await officer.send("/ho")
    reply = await officer.press("Danh sách hộ")
    assert "13 thôn: 2 thôn đã có danh sách hộ (1 thôn đã xác nhận đủ)" in reply
    assert "thôn 1–10 trong 13" in reply
    assert officer.options()[:3] == ["Bản Pa Ủ — 2 hộ, đã xác nhận đủ",
                                     "Bản Xóm 05 — 1 hộ, chưa xác nhận",
                                     "Bản Nà Khan — chưa có hộ nào"]
    reply = await officer.press("Xem tiếp (3 thôn nữa)")
    assert "thôn 11–13 trong 13" in reply and "Bản Xóm 11 — chưa có hộ nào" in officer.options()
    reply = await officer.send("xom 11")  # typed: any village, on any page
    assert "Danh sách hộ của Bản Xóm 11: 0 hộ" in reply


async def test_a_list_as_large_as_the_report_says_the_report_uses_it(core, db, world, clock):
    head = Chat(core, "100")
    clock.set_local("2026-10-04 10:00")
    await head.send("/baocao 3 2 1 0 0 0 1 1 0")
    await head.press("Gửi")
    clock.set_local("2026-11-05 10:00")
    for n in range(3):
        await add(db, clock, world.village, f"NK-{n}", status="near_poor" if n else "poor")
    await head.send("/ho")
    reply = await head.press("Danh sách hộ")
    assert "3 hộ, đúng bằng tổng số hộ của báo cáo tháng gần nhất" in reply
    assert "chưa lấy số" not in reply


async def _villages(db, commune):
    async with db.read() as conn:
        return await areas.subtree(conn, commune, level="village")


def test_villages_are_named_in_counting_order():
    from handlers.household_list import name_key
    names = ["Tổ dân phố 12", "Tổ dân phố 2", "1 Bản", "Bản Ả", "tổ dân phố 10b"]
    assert sorted(names, key=name_key) == ["1 Bản", "Bản Ả", "Tổ dân phố 2", "tổ dân phố 10b",
                                           "Tổ dân phố 12"]
