"""Storage: migrations, pragmas, the area tree, invites, report versions, the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiosqlite
import pytest

from storage import areas, audit, invites, people
from storage.audit import Actor
from storage.db import Database
from storage.migrations import MIGRATIONS
from storage.reports import MONTHLY_FORM, current_report, report_versions, save_report

AT = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
CLI = Actor(None, "cli:test")


async def test_migrations_apply_once_and_are_recorded(tmp_path):
    path = tmp_path / "m.sqlite3"
    db = await Database.open(path)
    await db.close()
    db = await Database.open(path)  # second start: nothing to apply, no error
    async with db.read() as conn:
        async with conn.execute("SELECT version, name FROM schema_migrations") as cur:
            rows = [tuple(r) for r in await cur.fetchall()]
        async with conn.execute("PRAGMA journal_mode") as cur:
            assert (await cur.fetchone())[0] == "wal"
        async with conn.execute("PRAGMA foreign_keys") as cur:
            assert (await cur.fetchone())[0] == 1
    await db.close()
    assert rows == [(n, name) for n, name, _ in MIGRATIONS]


async def test_a_failed_migration_leaves_nothing_behind(tmp_path, monkeypatch):
    broken = MIGRATIONS + [(99, "m099_broken", ["CREATE TABLE x (a INTEGER)", "NOT SQL"])]
    monkeypatch.setattr("storage.migrations.MIGRATIONS", broken)
    with pytest.raises(aiosqlite.OperationalError):
        await Database.open(tmp_path / "b.sqlite3")
    monkeypatch.setattr("storage.migrations.MIGRATIONS", MIGRATIONS)
    db = await Database.open(tmp_path / "b.sqlite3")
    async with db.read() as conn:
        async with conn.execute("SELECT name FROM sqlite_master WHERE name = 'x'") as cur:
            assert await cur.fetchone() is None
        async with conn.execute("SELECT max(version) FROM schema_migrations") as cur:
            assert (await cur.fetchone())[0] == MIGRATIONS[-1][0]
    await db.close()


async def test_foreign_keys_are_enforced(db):
    with pytest.raises(aiosqlite.IntegrityError):
        async with db.write() as conn:
            await conn.execute(
                "INSERT INTO roles (person_id, role, area_id, granted_at) VALUES (999, 'admin',"
                " 999, '2026-01-01')")


async def test_a_failed_transaction_writes_nothing(db):
    with pytest.raises(RuntimeError):
        async with db.write() as conn:
            await areas.add_area(conn, parent=None, level="province", name="Tỉnh X",
                                 actor=CLI, at=AT)
            raise RuntimeError("boom")
    async with db.read() as conn:
        assert await areas.subtree(conn, None) == []
        assert await audit.entries(conn) == []


async def test_area_tree_paths_and_matching_without_diacritics(db, world):
    async with db.read() as conn:
        found = await areas.find_areas(conn, "na khan")
        assert [a.name for a in found] == ["Bản Nà Khan"]
        villages = await areas.subtree(conn, world.commune, level="village")
        assert {a.name for a in villages} == {"Bản Nà Khan", "Bản Pa Ủ"}
        assert world.province.contains(world.far_village)
        assert not world.commune.contains(world.far_village)
        assert [a.name for a in await areas.ancestors(conn, world.village)] == [
            "Tỉnh Lai Châu", "Xã Mường Tè"]
        assert (await areas.area_by_code(conn, "commune", "03445")).name == "Xã Mường Tè"
        assert (await areas.child_by_name(conn, world.province, "xa muong te")).id == \
            world.commune.id


async def test_a_search_with_nothing_to_look_for_finds_nothing(db, world):
    async with db.read() as conn:
        for query in ("", "   ", "\u200b", "\u202e\u200e", "%", "_"):
            assert await areas.find_areas(conn, query) == [], repr(query)
        assert [a.name for a in await areas.find_areas(conn, "\u200bna\u200d khan")] == [
            "Bản Nà Khan"]


async def test_area_names_are_stored_without_invisible_marks(db, world):
    async with db.write() as conn:
        area = await areas.add_area(conn, parent=world.commune, level="village",
                                    name="Bản\u200b Hua\u00a0Sang\u200e", actor=CLI, at=AT)
    assert area.name == "Bản Hua Sang"
    with pytest.raises(aiosqlite.IntegrityError):  # looks the same, so it is the same
        async with db.write() as conn:
            await areas.add_area(conn, parent=world.commune, level="village",
                                 name="Bản Hua Sang\u2060", actor=CLI, at=AT)


async def test_same_name_twice_under_one_parent_is_refused(db, world):
    with pytest.raises(aiosqlite.IntegrityError):
        async with db.write() as conn:
            await areas.add_area(conn, parent=world.commune, level="village",
                                 name="Ban Na Khan", actor=CLI, at=AT)


async def test_roles_scope(db, world):
    async with db.read() as conn:
        head = await people.get_person(conn, world.head_id)
        officer = await people.get_person(conn, world.officer_id)
        boss = await people.get_person(conn, world.province_officer_id)
    assert head.can_report_for(world.village) and not head.can_report_for(world.village2)
    assert officer.can_report_for(world.village2)
    assert not officer.can_see(world.far_village) and boss.can_see(world.far_village)
    assert not head.can_override_lock(world.village) and officer.can_override_lock(world.village)


async def test_invite_is_single_use_and_expires(db, world):
    async with db.write() as conn:
        await invites.create_invite(conn, code="ABCD2345", role="village_head",
                                    area_id=world.village2.id, full_name="A",
                                    expires_at=AT + timedelta(days=1), actor=CLI, at=AT)
        pid = await people.create_person(conn, "A", actor=CLI, at=AT)
        assert await invites.claim_invite(conn, "ABCD2345", pid, actor=CLI, at=AT)
        assert not await invites.claim_invite(conn, "ABCD2345", pid, actor=CLI, at=AT)
        await invites.create_invite(conn, code="WXYZ2345", role="officer",
                                    area_id=world.commune.id, full_name="",
                                    expires_at=AT + timedelta(days=1), actor=CLI, at=AT)
        later = AT + timedelta(days=2)
        assert not await invites.claim_invite(conn, "WXYZ2345", pid, actor=CLI, at=later)


async def test_report_versions_and_audit(db, world):
    actor = Actor(world.head_id, "test:100")
    data = {"total": 120, "poor": 15, "near_poor": 8, "exited": 2, "newly_poor": 1,
            "fallen_back": 0, "em_poor": 3, "loans": 10, "support_vnd": 5_000_000, "note": ""}
    async with db.write() as conn:
        v1 = await save_report(conn, area_id=world.village.id, form=MONTHLY_FORM,
                               period="2026-10", data=data, actor=actor, via="test", at=AT)
        v2 = await save_report(conn, area_id=world.village.id, form=MONTHLY_FORM,
                               period="2026-10", data={**data, "poor": 14}, actor=actor,
                               via="test", at=AT + timedelta(hours=1))
    assert (v1, v2) == (1, 2)
    async with db.read() as conn:
        current = await current_report(conn, world.village.id, MONTHLY_FORM, "2026-10")
        versions = await report_versions(conn, world.village.id)
        async with conn.execute(
                "SELECT poor, version FROM village_monthly WHERE area_id = ?",
                (world.village.id,)) as cur:
            typed = tuple(await cur.fetchone())
        log = await audit.entries(conn, "report", f"{world.village.id}/{MONTHLY_FORM}/2026-10")
    assert current.data["poor"] == 14 and current.submitted_by_name == "Lò Văn Páo"
    assert [v.version for v in versions] == [2, 1]
    assert typed == (14, 2)
    assert [e["after"]["version"] for e in log] == [1, 2]
    assert log[1]["before"]["poor"] == 15 and log[1]["after"]["poor"] == 14
    assert log[1]["actor_person_id"] == world.head_id and log[1]["actor"] == "test:100"


async def test_every_setup_change_is_audited(db, world):
    async with db.read() as conn:
        log = await audit.entries(conn)
    kinds = {(e["action"], e["entity"]) for e in log}
    assert {("create", "area"), ("create", "person"), ("link", "identity"),
            ("grant", "role")} <= kinds
    assert all(e["at"].endswith("+00:00") for e in log)


async def test_lean_tables_migration_keeps_dialogs_and_inbound_ids(tmp_path, monkeypatch):
    from storage.dialogs import load_dialog
    from storage.inbound import first_delivery

    path = tmp_path / "old.sqlite3"
    monkeypatch.setattr("storage.migrations.MIGRATIONS", MIGRATIONS[:1])
    db = await Database.open(path)
    async with db.write() as conn:
        await conn.execute(  # as the code of that time wrote it
            "INSERT INTO dialogs (channel, sender_id, dialog, step, draft, updated_at)"
            " VALUES ('telegram', '7', 'report', 'form', '{\"idx\": 3}', ?)", (AT.isoformat(),))
        assert await first_delivery(conn, "telegram", "u1", AT)
    await db.close()
    monkeypatch.setattr("storage.migrations.MIGRATIONS", MIGRATIONS)
    db = await Database.open(path)
    async with db.write() as conn:
        state = await load_dialog(conn, "telegram", "7")
        assert (state.step, state.draft) == ("form", {"idx": 3})
        assert not await first_delivery(conn, "telegram", "u1", AT)  # still remembered
        async with conn.execute("SELECT busy FROM dialogs WHERE sender_id = '7'") as cur:
            assert (await cur.fetchone())[0] == 1  # a form under way (migration 11)
        async with conn.execute(
                "SELECT sql FROM sqlite_master WHERE name = 'inbound_seen'") as cur:
            assert "WITHOUT ROWID" in (await cur.fetchone())[0]
    await db.close()
