"""Storage of households: the list, status changes and their events, assessments, support,
exit registrations, and the monthly figures computed from the list."""

from __future__ import annotations

from datetime import date, timedelta

import aiosqlite
import pytest

from storage import audit
from storage import households as hh
from storage.audit import Actor
from storage.migrations import MIGRATIONS

OFFICER = Actor(2, "test:200")  # the commune officer of the world fixture (person 2)
WINDOW = 36  # months a household stays "recently exited"


async def add(db, world, clock, code, name="Lò Văn Páo", status="poor", village=None,
              since=date(2026, 1, 15), **flags) -> hh.Household:
    async with db.write() as conn:
        return await hh.add_household(
            conn, village_id=(village or world.village).id, code=code, head_name=name,
            status=status, status_since=since, actor=OFFICER, at=clock(), **flags)


async def change(db, clock, household, status, on, **kw) -> hh.StatusChange:
    async with db.write() as conn:
        return await hh.change_status(conn, household.id, status, effective_date=on,
                                      exit_window_months=WINDOW, actor=OFFICER, at=clock(),
                                      **kw)


async def read(db, fn, *args, **kwargs):
    async with db.read() as conn:
        return await fn(conn, *args, **kwargs)


# --- schema ------------------------------------------------------------------------------------

async def test_migration_3_creates_the_household_tables(db):
    assert MIGRATIONS[2][:2] == (3, "m003_households")
    async with db.read() as conn:
        names = {r[0] for r in await conn.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")}
        columns = {r[1] for r in await conn.execute_fetchall("PRAGMA table_info(households)")}
    assert {"households", "household_events", "household_assessments", "household_support",
            "exit_registrations", "registration_events", "exit_registrations_open",
            "households_village_status", "household_events_village_date"} <= names
    # DOMAIN §9: the minimum, nothing that identifies a person beyond the head's name.
    assert columns == {
        "id", "village_id", "code", "head_name", "head_name_folded", "status", "status_since",
        "recently_exited_until", "ethnic_minority", "no_work_capacity", "has_merit", "has_loan",
        "created_at", "updated_at",
    }


async def test_the_monthly_figures_read_covering_indexes_only(db):
    async with db.read() as conn:
        plan = " | ".join(r[3] for r in await conn.execute_fetchall(
            "EXPLAIN QUERY PLAN " + hh._FIGURES_SQL, (1, 1, "2026-10-01", "2026-11-01")))
    assert "USING COVERING INDEX households_village_status" in plan
    assert "USING COVERING INDEX household_events_village_date" in plan


async def test_the_database_refuses_an_unknown_status(db, world, clock):
    with pytest.raises(aiosqlite.IntegrityError):
        async with db.write() as conn:
            await conn.execute(
                "INSERT INTO households (village_id, code, head_name, head_name_folded, status,"
                " status_since, created_at, updated_at) VALUES (?, 'X', 'A', 'a', 'rich',"
                " '2026-01-01', '', '')", (world.village.id,))


# --- the household list ------------------------------------------------------------------------

async def test_add_and_read_a_household_audited(db, world, clock):
    h = await add(db, world, clock, " hn 01 ", "  Lò  Văn Páo ", ethnic_minority=True,
                  has_loan=True)
    assert (h.code, h.head_name, h.status, h.status_since) == (
        "HN 01", "Lò Văn Páo", "poor", date(2026, 1, 15))
    assert (h.ethnic_minority, h.no_work_capacity, h.has_merit, h.has_loan) == (
        True, False, False, True)
    assert await read(db, hh.get_household, h.id) == h
    assert await read(db, hh.household_by_code, world.village.id, "hn 01") == h
    assert await read(db, hh.household_by_code, world.village2.id, "HN 01") is None
    [entry] = await read(db, audit.entries, "household", h.id)
    assert (entry["action"], entry["actor"], entry["actor_person_id"]) == (
        "create", "test:200", 2)
    assert entry["after"]["code"] == "HN 01" and entry["after"]["has_loan"] is True
    [event] = await read(db, hh.household_events, h.id)
    assert (event.kind, event.status_before, event.status_after, event.effective_date) == (
        "created", None, "poor", date(2026, 1, 15))


async def test_a_code_is_unique_per_village(db, world, clock):
    await add(db, world, clock, "HN01")
    with pytest.raises(hh.HouseholdError) as error:
        await add(db, world, clock, "hn01", "Someone Else")
    assert error.value.key == "household.duplicate_code"
    other = await add(db, world, clock, "HN01", village=world.village2)  # another village: fine
    assert other.village_id == world.village2.id
    with pytest.raises(aiosqlite.IntegrityError):  # the database enforces it too
        async with db.write() as conn:
            await conn.execute(
                "INSERT INTO households (village_id, code, head_name, head_name_folded, status,"
                " status_since, created_at, updated_at) VALUES (?, 'HN01', 'A', 'a', 'poor',"
                " '2026-01-01', '', '')", (world.village.id,))
    assert len(await read(db, hh.list_households, world.village.id)) == 1


async def test_add_many_households_at_once(db, world, clock):
    await add(db, world, clock, "HN01")
    batch = [hh.NewHousehold("hn02", "Lò Thị Mai", "near_poor", has_loan=True),
             hh.NewHousehold("HN03", "Vàng A Sử", "poor", ethnic_minority=True)]
    async with db.write() as conn:
        added = await hh.add_households(conn, world.village.id, batch,
                                        status_since=date(2026, 9, 1), actor=OFFICER,
                                        at=clock(), reason="import ds.xlsx")
    assert [(h.code, h.status, h.has_loan, h.ethnic_minority) for h in added] == [
        ("HN02", "near_poor", True, False), ("HN03", "poor", False, True)]
    assert added == (await read(db, hh.list_households, world.village.id))[1:]
    for h in added:
        [event] = await read(db, hh.household_events, h.id)
        assert (event.kind, event.status_after, event.reason) == (
            "created", h.status, "import ds.xlsx")
        [entry] = await read(db, audit.entries, "household", h.id)
        assert entry["action"] == "create" and entry["after"] == h.as_dict()
    for bad, key in (([hh.NewHousehold("HN01", "X", "poor")], "household.duplicate_code"),
                     ([hh.NewHousehold("A", "X", "poor"), hh.NewHousehold("a", "Y", "poor")],
                      "household.duplicate_code"),
                     ([hh.NewHousehold("B", "X", "rich")], "household.unknown_status"),
                     ([hh.NewHousehold("C", "", "poor")], "household.no_name")):
        with pytest.raises(hh.HouseholdError) as error:
            async with db.write() as conn:
                await hh.add_households(conn, world.village.id, bad, status_since=date.today(),
                                        actor=OFFICER, at=clock())
        assert error.value.key == key
    assert len(await read(db, hh.list_households, world.village.id)) == 3


async def test_missing_code_name_or_unknown_status_are_refused(db, world, clock):
    for code, name, status, key in (("", "A", "poor", "household.no_code"),
                                    ("X", " ", "poor", "household.no_name"),
                                    ("X", "A", "rich", "household.unknown_status")):
        with pytest.raises(hh.HouseholdError) as error:
            await add(db, world, clock, code, name, status)
        assert error.value.key == key
    assert await read(db, hh.has_household_list, world.village.id) is False


async def test_invisible_characters_do_not_make_a_new_code(db, world, clock):
    await add(db, world, clock, "NK-01", name="Lò\u200b Văn\u200f Páo")
    with pytest.raises(hh.HouseholdError) as error:
        await add(db, world, clock, "nk\u200b-01\u200e")
    assert error.value.key == "household.duplicate_code"
    (found,) = await read(db, hh.find_households, "NK-01", village_id=world.village.id)
    assert found.head_name == "Lò Văn Páo"


async def test_texts_are_stored_without_invisible_characters(db, world, clock):
    h = await add(db, world, clock, "\u200bNK\u00a002\ufeff", name="\u202eLò\u2060 Văn\u3000Tú")
    assert (h.code, h.head_name) == ("NK 02", "Lò Văn Tú")
    async with db.write() as conn:
        s = await hh.add_support(conn, h.id, kind="loan", amount_vnd=1_000_000,
                                 source="Quỹ\u200b Vì\u00a0người nghèo\u200e",
                                 given_on=date(2026, 10, 2), actor=OFFICER, at=clock())
        r = await hh.register_exit(
            conn, h.id, target_year=2027, plan_kind="livestock", plan_text="nuôi\u200d 2 bò\u200f",
            support_asked=[], registered_on=date(2026, 10, 10), actor=OFFICER, at=clock())
        moved = await hh.set_registration_state(conn, r.id, "not_yet", actor=OFFICER,
                                                at=clock(), reason="\u200bthu\u00a0nhập thấp")
    assert s.source == "Quỹ Vì người nghèo"
    assert (await read(db, hh.get_registration, r.id)).plan_text == "nuôi 2 bò"
    assert moved.registration.state_reason == "thu nhập thấp"


async def test_a_search_of_invisible_characters_finds_nothing(db, world, clock):
    await add(db, world, clock, "NK-01")
    await add(db, world, clock, "NK-02", name="Lò Thị Mai")
    for query in ("\u200b", "\u200e\u200f", "\ufeff ", "\u00ad"):
        assert await read(db, hh.find_households, query, within=world.province) == []
        assert await read(db, hh.count_households, query, within=world.province) == 0
    (found,) = await read(db, hh.find_households, "\u202emai\u200b", within=world.province)
    assert found.code == "NK-02"


async def test_update_is_audited_with_the_changed_fields_only(db, world, clock):
    h = await add(db, world, clock, "HN01")
    clock.advance(days=1)
    async with db.write() as conn:
        after = await hh.update_household(
            conn, h.id, {"head_name": "Lò Thị Mai", "has_loan": True, "has_merit": False},
            actor=OFFICER, at=clock())
    assert (after.head_name, after.has_loan, after.updated_at) == ("Lò Thị Mai", True, clock())
    last = (await read(db, audit.entries, "household", h.id))[-1]
    assert (last["action"], last["before"], last["after"]) == (
        "update", {"head_name": "Lò Văn Páo", "has_loan": False},
        {"head_name": "Lò Thị Mai", "has_loan": True})
    found = await read(db, hh.find_households, "mai", village_id=world.village.id)
    assert [x.id for x in found] == [h.id]  # the folded name follows
    async with db.write() as conn:  # the same values again: nothing written
        same = await hh.update_household(conn, h.id, {"has_loan": 1}, actor=OFFICER,
                                         at=clock())
    assert same == after
    assert len(await read(db, audit.entries, "household", h.id)) == 2


async def test_update_refuses_the_status_unknown_fields_and_a_taken_code(db, world, clock):
    h = await add(db, world, clock, "HN01")
    await add(db, world, clock, "HN02", "Lò Văn B")
    async with db.write() as conn:
        with pytest.raises(ValueError, match="change_status"):
            await hh.update_household(conn, h.id, {"status": "average"}, actor=OFFICER,
                                      at=clock())
        with pytest.raises(ValueError, match="id_card"):
            await hh.update_household(conn, h.id, {"id_card": "0123"}, actor=OFFICER,
                                      at=clock())
        with pytest.raises(hh.HouseholdError) as error:
            await hh.update_household(conn, h.id, {"code": "hn02"}, actor=OFFICER, at=clock())
    assert error.value.key == "household.duplicate_code"


async def test_find_by_code_prefix_or_name_without_diacritics(db, world, clock):
    pao = await add(db, world, clock, "HN01", "Lò Văn Páo")
    mai = await add(db, world, clock, "HN02", "Lò Thị Mai")
    dung = await add(db, world, clock, "PU01", "Đặng Văn Dũng", village=world.village2)
    far = await add(db, world, clock, "HN03", "Lò Văn Páo", village=world.far_village)

    async def find(query, **where):
        return [h.id for h in await read(db, hh.find_households, query, **where)]

    v1 = {"village_id": world.village.id}
    assert await find("pao", **v1) == [pao.id]
    assert await find("LO VAN PAO", **v1) == [pao.id]
    assert await find("lò", **v1) == [mai.id, pao.id]  # names starting with it, by name
    assert await find("hn0", **v1) == [pao.id, mai.id]
    assert await find("hn02", **v1) == [mai.id]
    assert await find("dang van dung", **v1) == []  # another village
    assert await find("dung", within=world.commune) == [dung.id]
    assert await find("pao", within=world.province) == [pao.id, far.id]
    assert await find("%", **v1) == [] and await find("_", **v1) == []  # no wildcards
    assert await find("van", **v1) == [pao.id]  # a word inside the name
    assert len(await read(db, hh.find_households, "lo", within=world.province, limit=2)) == 2
    with pytest.raises(ValueError):
        await read(db, hh.find_households, "pao")


async def test_list_in_code_order(db, world, clock):
    for code in ("10", "2", "1", "B1"):
        await add(db, world, clock, code, f"Hộ {code}", status="near_poor" if code == "2"
                  else "poor")
    assert [h.code for h in await read(db, hh.list_households, world.village.id)] == [
        "1", "2", "10", "B1"]
    near = await read(db, hh.list_households, world.village.id, status="near_poor")
    assert [h.code for h in near] == ["2"]
    assert await read(db, hh.has_household_list, world.village.id) is True


# --- status changes ----------------------------------------------------------------------------

@pytest.mark.parametrize("before, after, exited, until, kind", [
    ("poor", "near_poor", False, None, "exited"),
    ("poor", "average", False, None, "exited"),
    ("poor", "other", False, None, "exited"),
    ("near_poor", "average", False, None, "exited_near_poor"),
    ("near_poor", "other", False, None, "exited_near_poor"),
    ("average", "poor", False, None, "newly_poor"),
    ("other", "poor", False, None, "newly_poor"),
    ("near_poor", "poor", False, None, "newly_poor"),
    ("average", "poor", True, None, "fallen_back"),  # exited once, long ago
    ("average", "poor", False, date(2027, 1, 1), "fallen_back"),  # window still open
    ("average", "poor", False, date(2026, 6, 1), "newly_poor"),  # window closed
    ("average", "poor", False, date(2026, 6, 30), "newly_poor"),  # ends on its date
    ("near_poor", "poor", True, None, "fallen_back"),
    ("average", "near_poor", False, None, "newly_near_poor"),
    ("other", "near_poor", True, None, "newly_near_poor"),
    ("average", "other", False, None, "status_change"),
    ("other", "average", False, None, "status_change"),
    ("poor", "poor", False, None, None),
])
def test_change_kind_rules(before, after, exited, until, kind):
    assert hh.change_kind(before, after, on=date(2026, 6, 30), recently_exited_until=until,
                          ever_exited=exited) == kind


def test_add_months_clamps_the_day():
    assert hh.add_months(date(2026, 10, 15), 36) == date(2029, 10, 15)
    assert hh.add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert hh.add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert hh.month_bounds("2026-12") == ("2026-12-01", "2027-01-01")


async def test_exit_opens_the_window_and_poor_again_within_it_is_fallen_back(db, world, clock):
    h = await add(db, world, clock, "HN01")
    exited = await change(db, clock, h, "average", date(2026, 10, 15), reason="annual review")
    assert exited.event.kind == "exited"
    assert (exited.household.status, exited.household.status_since) == (
        "average", date(2026, 10, 15))
    assert exited.household.recently_exited_until == date(2029, 10, 15)
    assert exited.household.recently_exited(date(2029, 10, 14))
    assert not exited.household.recently_exited(date(2029, 10, 15))
    assert (exited.event.recognised_by, exited.event.reason) == (2, "annual review")

    back = await change(db, clock, h, "poor", date(2027, 3, 1))
    assert back.event.kind == "fallen_back"
    assert back.household.recently_exited_until is None  # poor again: the window is closed
    last = (await read(db, audit.entries, "household", h.id))[-1]
    assert (last["action"], last["before"]["status"], last["after"]["status"],
            last["after"]["event"]) == ("status", "average", "poor", "fallen_back")

    # Exited again, then poor long after the window: still a relapse (it exited before).
    await change(db, clock, h, "near_poor", date(2027, 6, 1))
    later = await change(db, clock, h, "poor", date(2031, 1, 1))
    assert later.event.kind == "fallen_back"
    kinds = [e.kind for e in await read(db, hh.household_events, h.id)]
    assert kinds == ["created", "exited", "fallen_back", "exited", "fallen_back"]


async def test_newly_poor_and_near_poor_changes(db, world, clock):
    h = await add(db, world, clock, "TB01", status="average")
    assert (await change(db, clock, h, "near_poor", date(2026, 3, 1))).event.kind == (
        "newly_near_poor")
    assert (await change(db, clock, h, "poor", date(2026, 4, 1))).event.kind == "newly_poor"
    n = await add(db, world, clock, "CN01", status="near_poor")
    out = await change(db, clock, n, "average", date(2026, 4, 1))
    assert out.event.kind == "exited_near_poor"
    assert out.household.recently_exited_until is None  # only leaving poverty opens it
    same = await change(db, clock, n, "average", date(2026, 5, 1))
    assert same.event is None and same.household == out.household
    with pytest.raises(hh.HouseholdError):
        await change(db, clock, n, "rich", date(2026, 5, 1))


async def test_a_failed_transaction_leaves_no_half_written_change(db, world, clock):
    h = await add(db, world, clock, "HN01")
    with pytest.raises(RuntimeError):
        async with db.write() as conn:
            await hh.change_status(conn, h.id, "average", effective_date=date(2026, 10, 1),
                                   exit_window_months=WINDOW, actor=OFFICER, at=clock())
            raise RuntimeError("crash before the commit")
    assert (await read(db, hh.get_household, h.id)).status == "poor"
    assert [e.kind for e in await read(db, hh.household_events, h.id)] == ["created"]
    assert len(await read(db, audit.entries, "household", h.id)) == 1


# --- assessments and support -------------------------------------------------------------------

async def assess(db, clock, h, status, income=1_200_000, deprived=("water", "sanitation")):
    async with db.write() as conn:
        return await hh.record_assessment(
            conn, h.id, year=2026, income_per_person=income, deprived=deprived,
            standard_name="Nghị định 07/2021/NĐ-CP", suggested_status=status, actor=OFFICER,
            at=clock())


async def decide(db, clock, a, decision, **kw):
    async with db.write() as conn:
        return await hh.decide_assessment(conn, a.id, decision, actor=OFFICER, at=clock(),
                                          **kw)


async def test_recognising_an_assessment_applies_the_status_once(db, world, clock):
    h = await add(db, world, clock, "HN01")
    a = await assess(db, clock, h, "near_poor")
    assert (a.state, a.deprived, a.assessed_by) == ("suggested", ("water", "sanitation"), 2)
    assert await read(db, hh.get_assessment, a.id) == a
    with pytest.raises(ValueError):  # a recognition needs its date and the window
        await decide(db, clock, a, "recognise")
    done = await decide(db, clock, a, "recognise", effective_date=date(2026, 10, 20),
                        exit_window_months=WINDOW, reason="họp bình xét")
    assert not done.already and done.assessment.state == "recognised"
    assert done.assessment.decided_by == 2 and done.assessment.decision_reason == "họp bình xét"
    assert done.change.event.kind == "exited"
    assert done.change.household.status == "near_poor"
    again = await decide(db, clock, a, "recognise", effective_date=date(2026, 10, 20),
                         exit_window_months=WINDOW)
    assert again.already and again.change is None
    assert [e.kind for e in await read(db, hh.household_events, h.id)] == ["created", "exited"]
    with pytest.raises(hh.HouseholdError) as error:
        await decide(db, clock, a, "reject")
    assert error.value.key == "assessment.decided"
    actions = [e["action"] for e in await read(db, audit.entries, "assessment", a.id)]
    assert actions == ["create", "recognise"]


async def test_rejecting_an_assessment_changes_nothing(db, world, clock):
    h = await add(db, world, clock, "HN01")
    a = await assess(db, clock, h, "average", income=1_800_000)
    done = await decide(db, clock, a, "reject", reason="thu nhập chưa xác minh")
    assert done.assessment.state == "rejected" and done.change is None
    assert (await read(db, hh.get_household, h.id)).status == "poor"
    assert [x.state for x in await read(db, hh.assessments, h.id)] == ["rejected"]
    with pytest.raises(ValueError):
        await decide(db, clock, a, "approve")


async def test_a_newer_assessment_supersedes_the_pending_ones(db, world, clock):
    """Issue 11, item 5: an older suggestion never comes back once a newer one exists."""
    h = await add(db, world, clock, "HN01", status="near_poor")
    old = await assess(db, clock, h, "poor", deprived=("water", "sanitation", "telecom"))
    clock.advance(minutes=5)
    head = Actor(1, "test:100")
    async with db.write() as conn:
        new = await hh.record_assessment(
            conn, h.id, year=2026, income_per_person=1_800_000, deprived=(),
            standard_name="x", suggested_status="average", actor=head, at=clock())
    before = await read(db, hh.get_assessment, old.id)
    assert before.state == "superseded" and before.superseded_by == new.id
    assert before.decided_by == 1 and before.decided_at == new.assessed_at  # who and when
    assert [a.id for a, _ in await read(db, hh.pending_assessments, within=world.commune)] \
        == [new.id]
    entries = await read(db, audit.entries, "assessment", old.id)
    assert [e["action"] for e in entries] == ["create", "supersede"]
    assert entries[-1]["after"] == {"state": "superseded", "superseded_by": new.id}
    with pytest.raises(hh.HouseholdError) as error:  # a stale button cannot decide it
        await decide(db, clock, old, "recognise", effective_date=date(2026, 11, 5),
                     exit_window_months=WINDOW)
    assert error.value.key == "assessment.superseded"
    decided = await decide(db, clock, new, "reject")  # a decided one is not superseded
    async with db.write() as conn:
        third = await hh.record_assessment(
            conn, h.id, year=2026, income_per_person=1_000_000, deprived=(),
            standard_name="x", suggested_status="near_poor", actor=head, at=clock())
    assert (await read(db, hh.get_assessment, new.id)).state == "rejected" == \
        decided.assessment.state
    assert third.state == "suggested"


async def test_migration_9_keeps_the_assessments(tmp_path, monkeypatch):
    from storage.db import Database

    path = tmp_path / "old.sqlite3"
    monkeypatch.setattr("storage.migrations.MIGRATIONS", MIGRATIONS[:8])
    old = await Database.open(path)
    async with old.write() as conn:
        await conn.execute("INSERT INTO areas (id, parent_id, level, name, name_folded, path,"
                           " created_at) VALUES (1, NULL, 'village', 'Bản A', 'ban a', '/1/',"
                           " '2026-01-01')")
        await conn.execute(
            "INSERT INTO households (id, village_id, code, head_name, head_name_folded, status,"
            " status_since, created_at, updated_at) VALUES (1, 1, 'A1', 'Lò A', 'lo a', 'poor',"
            " '2026-01-01', '2026-01-01', '2026-01-01')")
        await conn.execute(
            "INSERT INTO household_assessments (household_id, year, income_per_person,"
            " deprived, standard_name, suggested_status, assessed_at)"
            " VALUES (1, 2026, 1200000, '[\"water\"]', 'x', 'near_poor', '2026-02-01')")
    await old.close()
    monkeypatch.setattr("storage.migrations.MIGRATIONS", MIGRATIONS)
    assert MIGRATIONS[8][:2] == (9, "m009_superseded_assessments")
    db = await Database.open(path)
    (a,) = await read(db, hh.assessments, 1)
    assert (a.state, a.deprived, a.superseded_by) == ("suggested", ("water",), None)
    async with db.write() as conn:
        with pytest.raises(aiosqlite.IntegrityError):
            await conn.execute("UPDATE household_assessments SET state = 'lost'")
    await db.close()


async def test_support_is_recorded_and_audited(db, world, clock):
    h = await add(db, world, clock, "HN01")
    async with db.write() as conn:
        s = await hh.add_support(conn, h.id, kind="breeds", amount_vnd=3_000_000,
                                 source="Quỹ Vì người nghèo", given_on=date(2026, 10, 2),
                                 actor=OFFICER, at=clock())
    assert await read(db, hh.support_of, h.id) == [s]
    [entry] = await read(db, audit.entries, "support", s.id)
    assert entry["after"]["amount_vnd"] == 3_000_000


# --- exit registrations ------------------------------------------------------------------------

async def register(db, clock, h, **kw):
    async with db.write() as conn:
        return await hh.register_exit(
            conn, h.id, target_year=2027, plan_kind="livestock", plan_text="nuôi 2 con bò",
            support_asked=["loan", "breeds"], registered_on=date(2026, 10, 10), actor=OFFICER,
            at=clock(), **kw)


async def move(db, clock, r, state, **kw):
    async with db.write() as conn:
        return await hh.set_registration_state(conn, r.id, state, actor=OFFICER, at=clock(),
                                               **kw)


RECOGNISE = {"effective_date": date(2026, 11, 1), "exit_window_months": WINDOW}
ALL_PAIRS = [(a, b) for a in hh.REGISTRATION_STATES for b in hh.REGISTRATION_STATES if a != b]


async def _in_state(db, clock, h, state):
    """A registration of ``h`` brought to ``state`` through allowed steps."""
    r = await register(db, clock, h)
    path = {"registered": [], "under_review": ["under_review"], "not_yet": ["not_yet"],
            "recognised": ["recognised"], "withdrawn": ["withdrawn"]}[state]
    for step in path:
        await move(db, clock, r, step, **RECOGNISE)
    return r


@pytest.mark.parametrize("start, target", ALL_PAIRS)
async def test_registration_transitions(db, world, clock, start, target):
    h = await add(db, world, clock, "HN01")
    r = await _in_state(db, clock, h, start)
    allowed = target in hh.TRANSITIONS[start]
    expected = {
        "registered": {"under_review", "withdrawn", "recognised", "not_yet"},
        "under_review": {"recognised", "not_yet", "withdrawn"},
        "not_yet": {"under_review", "withdrawn"},
    }.get(start, set())
    assert allowed == (target in expected)
    if allowed:
        done = await move(db, clock, r, target, reason="test", **RECOGNISE)
        assert done.registration.state == target and not done.already
        assert done.registration.state_by == 2 and done.registration.state_reason == "test"
    else:
        with pytest.raises(hh.HouseholdError) as error:
            await move(db, clock, r, target, **RECOGNISE)
        assert error.value.key == "registration.transition"
        assert (await read(db, hh.get_registration, r.id)).state == start


async def test_registration_life_cycle_and_double_recognise(db, world, clock):
    h = await add(db, world, clock, "HN01", ethnic_minority=True)
    r = await register(db, clock, h)
    assert (r.state, r.support_asked, r.household_code, r.head_name, r.open) == (
        "registered", ("loan", "breeds"), "HN01", "Lò Văn Páo", True)
    assert await read(db, hh.get_registration, r.id) == r
    await move(db, clock, r, "under_review")
    await move(db, clock, r, "not_yet", reason="thu nhập chưa đủ")
    await move(db, clock, r, "under_review")
    with pytest.raises(ValueError):  # recognising needs its date and the window
        await move(db, clock, r, "recognised")
    first = await move(db, clock, r, "recognised", reason="QĐ 12/UBND", **RECOGNISE)
    assert not first.already and not first.registration.open
    assert first.change.event.kind == "exited"
    assert first.change.household.status == "average"
    assert first.change.household.recently_exited_until == date(2029, 11, 1)
    second = await move(db, clock, r, "recognised", **RECOGNISE)
    assert second.already and second.change is None
    assert [e.kind for e in await read(db, hh.household_events, h.id)] == ["created", "exited"]
    history = await read(db, hh.registration_events, r.id)
    assert [(e.state_before, e.state_after) for e in history] == [
        (None, "registered"), ("registered", "under_review"), ("under_review", "not_yet"),
        ("not_yet", "under_review"), ("under_review", "recognised")]
    assert history[2].reason == "thu nhập chưa đủ"
    actions = [e["action"] for e in await read(db, audit.entries, "registration", r.id)]
    assert actions == ["register", "state", "state", "state", "state"]
    # Already recognised as exited: a new registration is refused.
    with pytest.raises(hh.HouseholdError) as error:
        await register(db, clock, h)
    assert error.value.key == "registration.already_exited"


async def test_recognising_to_near_poor_or_for_a_near_poor_household(db, world, clock):
    h = await add(db, world, clock, "HN01")
    r = await register(db, clock, h)
    done = await move(db, clock, r, "recognised", status_after="near_poor", **RECOGNISE)
    assert (done.change.household.status, done.change.event.kind) == ("near_poor", "exited")
    r2 = await register(db, clock, h)  # near-poor now: it may register to leave that too
    done2 = await move(db, clock, r2, "recognised", **RECOGNISE)
    assert (done2.change.household.status, done2.change.event.kind) == (
        "average", "exited_near_poor")
    r3 = await register(db, clock, await add(db, world, clock, "HN02", "B"))
    with pytest.raises(ValueError):
        await move(db, clock, r3, "recognised", status_after="poor", **RECOGNISE)


async def test_one_open_registration_per_household(db, world, clock):
    h = await add(db, world, clock, "HN01")
    r = await register(db, clock, h)
    with pytest.raises(hh.HouseholdError) as error:
        await register(db, clock, h)
    assert error.value.key == "registration.open_exists"
    with pytest.raises(aiosqlite.IntegrityError):  # the partial unique index backs it
        async with db.write() as conn:
            await conn.execute(
                "INSERT INTO exit_registrations (household_id, target_year, plan_kind,"
                " registered_on, state, state_at, created_at) VALUES (?, 2027, 'crops',"
                " '2026-10-10', 'not_yet', '', '')", (h.id,))
    await move(db, clock, r, "withdrawn", reason="chuyển đi")
    again = await register(db, clock, h)  # withdrawn: a new one is welcome
    assert again.id != r.id and again.open


async def test_a_household_neither_poor_nor_near_poor_cannot_register(db, world, clock):
    h = await add(db, world, clock, "TB01", status="average")
    with pytest.raises(hh.HouseholdError) as error:
        await register(db, clock, h)
    assert error.value.key == "registration.not_poor"
    async with db.read() as conn:
        assert await conn.execute_fetchall("SELECT * FROM exit_registrations") == []


async def test_registrations_by_area_and_state(db, world, clock):
    a = await register(db, clock, await add(db, world, clock, "HN01", "A"))
    b = await register(db, clock, await add(db, world, clock, "HN02", "B",
                                            village=world.village2))
    c = await register(db, clock, await add(db, world, clock, "HN03", "C",
                                            village=world.far_village))
    await move(db, clock, b, "under_review")

    async def ids(**where):
        return [r.id for r in await read(db, hh.registrations, **where)]

    assert await ids(within=world.province) == [a.id, b.id, c.id]
    assert await ids(within=world.commune) == [a.id, b.id]
    assert await ids(within=world.commune, states=["under_review"]) == [b.id]
    assert await ids(village_id=world.far_village.id, states=hh.OPEN_STATES) == [c.id]
    with pytest.raises(ValueError):
        await ids(within=world.commune, states=["lost"])


# --- monthly figures ---------------------------------------------------------------------------

async def test_village_figures_agree_with_a_hand_count(db, world, clock):
    """Nà Khan, October 2026, counted by hand:

    code  status now   EM  loan  events (effective date)
    P1    poor         x   x
    P2    poor         x         created 2026-10-03 (not counted: not a change)
    P3    poor             x     newly_poor 2026-10-01
    P4    poor                   exited 2026-09-30, fallen_back 2026-10-31
    N1    near_poor    x   x     exited 2026-10-15
    N2    near_poor                                   (average → near_poor in Oct: not counted)
    A1    average      x   x     exited 2026-11-01 (November)
    A2    average                exited 2026-10-20
    O1    other            x

    total 9; poor 4; near-poor 2; EM poor 2 (P1, P2); loans among poor + near-poor 3 (P1, P3,
    N1; A1 and O1 do not count); exited in Oct 2 (N1, A2); newly poor 1 (P3); fallen back 1
    (P4). A household of Pa Ủ that exits in October changes nothing here.
    """
    async def h(code, status, since=date(2026, 1, 1), **flags):
        return await add(db, world, clock, code, f"Hộ {code}", status, since=since, **flags)

    await h("P1", "poor", ethnic_minority=True, has_loan=True)
    await h("P2", "poor", since=date(2026, 10, 3), ethnic_minority=True)
    p3 = await h("P3", "average", has_loan=True)
    await change(db, clock, p3, "poor", date(2026, 10, 1))
    p4 = await h("P4", "poor")
    await change(db, clock, p4, "average", date(2026, 9, 30))
    await change(db, clock, p4, "poor", date(2026, 10, 31))
    n1 = await h("N1", "poor", ethnic_minority=True, has_loan=True)
    await change(db, clock, n1, "near_poor", date(2026, 10, 15))
    n2 = await h("N2", "average")
    await change(db, clock, n2, "near_poor", date(2026, 10, 5))
    a1 = await h("A1", "poor", ethnic_minority=True, has_loan=True)
    await change(db, clock, a1, "average", date(2026, 11, 1))
    a2 = await h("A2", "poor")
    await change(db, clock, a2, "average", date(2026, 10, 20))
    await h("O1", "other", has_loan=True)
    elsewhere = await add(db, world, clock, "X1", "Hộ khác", village=world.village2)
    await change(db, clock, elsewhere, "average", date(2026, 10, 10))

    october = await read(db, hh.village_figures, world.village.id, "2026-10")
    assert october == {"total": 9, "poor": 4, "near_poor": 2, "em_poor": 2, "loans": 3,
                       "exited": 2, "newly_poor": 1, "fallen_back": 1}
    september = await read(db, hh.village_figures, world.village.id, "2026-09")
    assert (september["exited"], september["newly_poor"], september["fallen_back"]) == (1, 0, 0)
    november = await read(db, hh.village_figures, world.village.id, "2026-11")
    assert november["exited"] == 1 and november["total"] == 9
    empty = await read(db, hh.village_figures, world.far_village.id, "2026-10")
    assert empty == dict.fromkeys(hh.FIGURE_KEYS, 0)
    assert await read(db, hh.has_household_list, world.far_village.id) is False

    commune_oct = await read(db, hh.events_in_month, "2026-10", within=world.commune,
                             kinds=hh.REPORTED_KINDS)
    assert sorted(e.kind for e in commune_oct) == [
        "exited", "exited", "exited", "fallen_back", "newly_poor"]
    assert {e.village_id for e in commune_oct} == {world.village.id, world.village2.id}
    village_oct = await read(db, hh.events_in_month, "2026-10", village_id=world.village.id)
    assert [e.effective_date for e in village_oct] == sorted(
        e.effective_date for e in village_oct)
    with pytest.raises(ValueError):
        await read(db, hh.village_figures, world.village.id, "October")


async def test_events_keep_the_date_they_were_recognised_on(db, world, clock):
    h = await add(db, world, clock, "HN01")
    clock.advance(days=40)  # recognised late, effective on the day of the review
    done = await change(db, clock, h, "average", clock().date() - timedelta(days=40))
    assert done.event.at == clock() and done.event.effective_date == date(2026, 11, 5)
