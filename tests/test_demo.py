"""The demo database: marked DEMO, real communes, a person per role, two consistent years."""

from __future__ import annotations

import csv
import shutil
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot import demo
from reports.periods import Month
from storage import areas, audit, people
from storage.db import Database
from storage.reports import MONTHLY_FORM, report_versions

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 5)  # the month to file (10/2026) is still open for village heads
CSV_NAME = "vn-admin-units-2025.csv"



@pytest.fixture
async def demo_db(demo_file, tmp_path):
    path = tmp_path / "demo.sqlite3"
    shutil.copyfile(demo_file, path)
    database = await Database.open(path)
    yield database
    await database.close()


def admin_units() -> dict[str, dict]:
    for folder in (ROOT / "data", Path("/work/shared/data")):
        if (folder / CSV_NAME).exists():
            with (folder / CSV_NAME).open(encoding="utf-8") as f:
                return {row["commune_code"]: row for row in csv.DictReader(f)}
    pytest.skip(f"{CSV_NAME} not found")


async def monthly_rows(db: Database) -> dict[int, list[dict]]:
    """village id -> its stored months (current versions), oldest first."""
    async with db.read() as conn:
        async with conn.execute("SELECT * FROM village_monthly ORDER BY area_id, period") as cur:
            rows = [dict(r) for r in await cur.fetchall()]
    out: dict[int, list[dict]] = {}
    for row in rows:
        out.setdefault(row["area_id"], []).append(row)
    return out


def expected_months(today: date) -> list[str]:
    month = Month.of(today).previous()
    keys = []
    for _ in range(24):
        keys.insert(0, month.key)
        month = month.previous()
    return keys


async def test_demo_builds_fast_and_is_marked(tmp_path, config):
    path = tmp_path / "demo.sqlite3"
    started = time.perf_counter()
    await demo.build_demo(path, config, TODAY)
    assert time.perf_counter() - started < 5
    meta = demo.read_demo_meta(path)
    assert meta["demo"] == "1" and meta["demo.built_for"] == "2026-11-05"
    db = await Database.open(path)
    try:
        async with db.read() as conn:
            (province,) = await areas.children(conn, None)
            assert await demo.demo_meta(conn) == meta
    finally:
        await db.close()
    assert province.name == "Tỉnh Lai Châu (DEMO)" and province.code == "12"


async def test_three_real_communes_with_villages(demo_db):
    units = admin_units()
    async with demo_db.read() as conn:
        (province,) = await areas.children(conn, None)
        communes = await areas.children(conn, province)
        assert len(communes) == 3
        for commune in communes:
            row = units[commune.code]
            assert row["province_code"] == "12" and row["commune_name"] == commune.name
            assert commune.urban == (row["commune_type"] == "Phường")
            villages = await areas.children(conn, commune)
            assert 3 <= len(villages) <= 5
            assert all(v.level == "village" and v.urban == commune.urban for v in villages)
    assert {c.name for c in communes} == {"Xã Mường Tè", "Xã Bum Nưa", "Phường Đoàn Kết"}


async def test_a_person_with_a_console_identity_in_every_role(demo_db):
    async with demo_db.read() as conn:
        featured = await demo.demo_personas(conn)
        assert set(featured) == set(demo.PERSONA_KINDS)
        found = {}
        for kind, person_id in featured.items():
            person = await people.get_person(conn, person_id)
            idents = await people.identities_of(conn, person_id)
            assert [i["channel"] for i in idents] == ["console"]
            assert await people.person_by_identity(conn, "console", idents[0]["external_id"])
            found[kind] = person
    (head_role,) = found["village_head"].roles
    assert head_role.role == "village_head" and head_role.area.name == "Bản Nà Khan"
    assert [(r.role, r.area.level) for r in found["commune_officer"].roles] == [
        ("officer", "commune")]
    assert [(r.role, r.area.level) for r in found["province_officer"].roles] == [
        ("officer", "province")]
    assert [r.role for r in found["admin"].roles] == ["admin"]
    assert found["village_head"].full_name == "Lò Văn Páo"


async def test_two_years_of_history_with_the_latest_month_open_for_some(demo_db):
    months = expected_months(TODAY)
    async with demo_db.read() as conn:
        villages = await areas.subtree(conn, None, level="village")
    rows = await monthly_rows(demo_db)
    late = []
    for village in villages:
        periods = [r["period"] for r in rows[village.id]]
        if periods == months[:-1]:
            late.append(village.name)
        else:
            assert periods == months, village.name
    assert "Bản Nà Khan" in late  # the featured village head has a report to file
    assert 1 < len(late) < len(villages) / 2


async def test_every_month_is_consistent(demo_db):
    rates = []
    for history in (await monthly_rows(demo_db)).values():
        previous = None
        for row in history:
            assert row["poor"] + row["near_poor"] <= row["total"]
            assert row["em_poor"] <= row["poor"]
            assert row["loans"] <= row["poor"] + row["near_poor"]
            assert row["newly_poor"] + row["fallen_back"] <= row["poor"]
            assert min(row[k] for k in ("exited", "newly_poor", "fallen_back", "support_vnd")) >= 0
            if previous is not None:
                assert row["exited"] <= previous["poor"]
                assert row["poor"] == (previous["poor"] - row["exited"] + row["newly_poor"]
                                       + row["fallen_back"]), (row["area_id"], row["period"])
            previous = row
        rates.append((history[0]["poor"] / history[0]["total"],
                      history[-1]["poor"] / history[-1]["total"]))
    assert all(end < start for start, end in rates)  # poverty falls everywhere


async def test_rates_look_like_lai_chau(demo_db):
    async with demo_db.read() as conn:
        async with conn.execute(
            "SELECT v.period, sum(v.total), sum(v.poor), sum(v.near_poor), sum(v.em_poor)"
            " FROM village_monthly v JOIN areas a ON a.id = v.area_id"
            " WHERE a.urban = 0 GROUP BY v.period ORDER BY v.period"
        ) as cur:
            rows = await cur.fetchall()
    first, last = rows[0], rows[-1]
    assert 0.15 <= first[2] / first[1] <= 0.3  # rural poverty rate two years ago
    assert 0.08 <= first[3] / first[1] <= 0.13  # near-poor
    assert first[2] / first[1] - last[2] / last[1] >= 0.03  # a few points lower now
    assert last[4] / last[2] >= 0.85  # most poor households are ethnic minority


async def test_reports_are_real_versions_with_an_audit_trail(demo_db):
    async with demo_db.read() as conn:
        async with conn.execute(
            "SELECT r.area_id, r.period FROM reports r WHERE r.form = ? AND r.version = 2",
            (MONTHLY_FORM,),
        ) as cur:
            corrected = await cur.fetchall()
        assert corrected, "some reports were corrected by an officer"
        area_id, period = corrected[0]
        versions = await report_versions(conn, area_id, MONTHLY_FORM, period)
        log = await audit.entries(conn, "report", f"{area_id}/{MONTHLY_FORM}/{period}")
        fixer = await people.get_person(conn, versions[0].submitted_by)
    assert [v.version for v in versions] == [2, 1]
    assert versions[1].data["total"] == versions[0].data["total"] + 10  # the typo fixed
    assert fixer.has_role("officer")  # corrected by the commune officer
    assert [e["action"] for e in log] == ["submit", "submit"]
    assert versions[0].submitted_at > versions[1].submitted_at


async def test_build_is_deterministic(demo_db, tmp_path, config):
    again = tmp_path / "again.sqlite3"
    await demo.build_demo(again, config, TODAY)
    db = await Database.open(again)
    try:
        assert await monthly_rows(db) == await monthly_rows(demo_db)
    finally:
        await db.close()


async def test_late_in_the_month_the_featured_village_is_complete(tmp_path, config):
    today = date(2026, 11, 20)  # 10/2026 is locked; village heads file 11/2026
    path = tmp_path / "demo.sqlite3"
    await demo.build_demo(path, config, today)
    db = await Database.open(path)
    try:
        async with db.read() as conn:
            (village,) = await areas.find_areas(conn, "Bản Nà Khan", level="village")
        rows = await monthly_rows(db)
    finally:
        await db.close()
    assert [r["period"] for r in rows[village.id]] == expected_months(today)
    assert any(len(history) == 23 for history in rows.values())  # others are late


async def test_never_replaces_a_real_database(tmp_path, config):
    path = tmp_path / "real.sqlite3"
    db = await Database.open(path)
    await db.close()
    with pytest.raises(demo.DemoError):
        await demo.build_demo(path, config, TODAY)
    with pytest.raises(demo.DemoError):
        await demo.ensure_demo(path, config, TODAY)
    assert path.exists() and demo.read_demo_meta(path) is None
    with pytest.raises(demo.DemoError):
        await demo.build_demo(config.db_path, config, TODAY)


async def test_ensure_demo_builds_when_missing_reset_or_stale(demo_file, tmp_path, config,
                                                              monkeypatch):
    built = []

    async def fake_build(path, config, today, **options):
        built.append(today)

    monkeypatch.setattr(demo, "build_demo", fake_build)
    path = tmp_path / "demo.sqlite3"
    assert await demo.ensure_demo(path, config, TODAY) is True  # missing
    shutil.copyfile(demo_file, path)
    assert await demo.ensure_demo(path, config, date(2026, 11, 28)) is False  # same month
    assert await demo.ensure_demo(path, config, TODAY, reset=True) is True
    assert await demo.ensure_demo(path, config, date(2026, 12, 2)) is True  # stale
    assert built == [TODAY, TODAY, date(2026, 12, 2)]


def _killed_build(path: Path, after_reports: int) -> int:
    """Build the demo at ``path`` in another process that is killed (SIGKILL, no clean-up)
    after filing ``after_reports`` monthly reports; its exit status."""
    import os
    import subprocess
    import sys
    import textwrap

    program = textwrap.dedent(f"""
        import asyncio, datetime, os, signal
        from bot import demo
        from bot.config import load_config
        real, calls = demo._file, [0]
        async def file_then_die(*args, **kwargs):
            calls[0] += 1
            if calls[0] > {after_reports}:
                os.kill(os.getpid(), signal.SIGKILL)
            return await real(*args, **kwargs)
        demo._file = file_then_die
        asyncio.run(demo.build_demo({str(path)!r}, load_config(env={{}}),
                                    datetime.date(2026, 11, 5)))
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIAMNGHEO_")}
    env.update(PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", program], cwd=ROOT, env=env,
                          timeout=60).returncode


async def test_a_build_killed_half_way_leaves_the_demo_as_it_was(demo_file, tmp_path, config):
    """The demo is built in a file beside it and renamed into place at the end: a build killed
    half-way never leaves a half-built demo, and the next start builds it again."""
    import signal

    path = tmp_path / "demo.sqlite3"
    assert _killed_build(path, after_reports=40) == -signal.SIGKILL
    assert not path.exists()  # no half-built demo where the console looks
    assert await demo.ensure_demo(path, config, TODAY) is True
    assert demo.read_demo_meta(path)["demo.built_for"] == "2026-11-05"
    earlier = date(2026, 10, 20)
    await demo.build_demo(path, config, earlier)
    assert _killed_build(path, after_reports=40) == -signal.SIGKILL
    assert demo.read_demo_meta(path)["demo.built_for"] == earlier.isoformat()  # untouched
    assert await demo.ensure_demo(path, config, TODAY, reset=True) is True
    assert demo.read_demo_meta(path)["demo.built_for"] == "2026-11-05"
    assert not [p.name for p in tmp_path.iterdir() if ".building" in p.name]


async def test_reset_demo_replaces_an_empty_database_left_by_a_build_that_stopped(tmp_path,
                                                                               config):
    """A file with the schema and nothing else (what a build that stopped half-way left
    before builds went through a temporary file) is replaced by ``--reset-demo``; without
    it the bot says what to do. A database with anything in it is never replaced."""
    path = tmp_path / "demo.sqlite3"
    db = await Database.open(path)
    await db.close()
    with pytest.raises(demo.DemoError, match="--reset-demo"):
        await demo.ensure_demo(path, config, TODAY)
    assert await demo.ensure_demo(path, config, TODAY, reset=True) is True
    assert demo.read_demo_meta(path)["demo"] == "1"
    real = tmp_path / "real.sqlite3"
    db = await Database.open(real)
    async with db.write() as conn:
        await areas.add_area(conn, parent=None, level="province", name="Tỉnh Lai Châu",
                             code="12", actor=demo.SETUP, at=datetime.now(UTC))
    await db.close()
    with pytest.raises(demo.DemoError, match="not a demo"):
        await demo.ensure_demo(real, config, TODAY, reset=True)
    assert demo.read_demo_meta(real) is None
