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
from storage.query import fetch_all
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
    """From the baseline (the yearly review at the end of 2021) to the month before."""
    keys, month = [], Month(2021, 12)
    while month < Month.of(today):
        keys.append(month.key)
        month = month.next()
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


async def test_history_from_the_baseline_with_the_latest_month_open_for_some(demo_db):
    """Every month since the end of 2021, the baseline of «So với gốc» and of the −50 % award
    rule, each filed in chat (so each old month is on time or late, as it was)."""
    months = expected_months(TODAY)
    assert months[0] == "2021-12" and months[-1] == "2026-10" and len(months) == 59
    async with demo_db.read() as conn:
        villages = await areas.subtree(conn, None, level="village")
        async with conn.execute("SELECT DISTINCT v.submitted_via, min(r.period), max(r.period)"
                                " FROM reports r JOIN report_versions v ON v.report_id = r.id"
                                " GROUP BY v.submitted_via ORDER BY 2") as cur:
            sources = [tuple(r) for r in await cur.fetchall()]
    assert sources == [("demo", "2021-12", "2026-10")]
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


async def _rates(db: Database, where: str = "1 = 1") -> dict[str, tuple[float, float, float]]:
    """period -> (poor %, near-poor %, ethnic-minority share of the poor %) of the villages
    that filed it."""
    async with db.read() as conn:
        async with conn.execute(
            "SELECT v.period, sum(v.total), sum(v.poor), sum(v.near_poor), sum(v.em_poor)"
            " FROM village_monthly v JOIN areas a ON a.id = v.area_id"
            f" WHERE {where} GROUP BY v.period ORDER BY v.period"
        ) as cur:
            rows = await cur.fetchall()
    return {p: (100 * poor / total, 100 * near / total, 100 * em / poor)
            for p, total, poor, near, em in rows}


async def test_rates_look_like_lai_chau(demo_db):
    """The province falls as Lai Châu did (DOMAIN §8: 19.46 % poor and 9.33 % near-poor at
    the end of 2024), most of it at each yearly review in December."""
    province = await _rates(demo_db)
    poor, near, _ = province["2024-12"]
    assert 17.5 <= poor <= 21.5 and 7.5 <= near <= 11
    rural = await _rates(demo_db, "a.urban = 0")
    assert 30 <= rural["2021-12"][0] <= 45 and 10 <= rural["2021-12"][1] <= 14  # baseline
    for year in range(2022, 2026):
        ends = [rural[f"{year - 1}-12"][0], rural[f"{year}-11"][0], rural[f"{year}-12"][0]]
        assert ends[0] - ends[2] >= 2.5, year  # a few points lower every year
        assert ends[1] - ends[2] > (ends[0] - ends[1]) / 2, year  # mostly in December
    months = sorted(rural)
    steps = [rural[a][0] - rural[b][0] for a, b in zip(months, months[1:], strict=False)
             if not b.endswith("-12")]
    assert max(abs(step) for step in steps) < 1.5  # the ongoing review: a few households
    assert rural[months[-1]][2] >= 85  # most poor households are ethnic minority


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
    months = expected_months(today)
    assert [r["period"] for r in rows[village.id]] == months
    assert any(len(history) == len(months) - 1 for history in rows.values())  # others late


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
    older = tmp_path / "older.sqlite3"  # built this month, by an earlier version of the demo
    shutil.copyfile(demo_file, older)
    db = await Database.open(older)
    async with db.write() as conn:
        await conn.execute("DELETE FROM meta WHERE key = 'demo.version'")
    await db.close()
    assert await demo.ensure_demo(older, config, TODAY) is True
    assert built == [TODAY, TODAY, date(2026, 12, 2), TODAY]


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
        from common.config import load_config
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


@pytest.mark.parametrize("size", demo.SIZES)
async def test_every_chart_sheet_and_the_candidates_show_something_everywhere(
        demo_file, tmp_path, config, size):
    """On either demo, as its officers would ask: for the featured village, its commune and
    the province, every chart offered has data, every spreadsheet too, and there are
    candidates for commendation (poor + near-poor more than halved since the baseline);
    exit registrations are in every state and items wait in /duyet."""
    from common.config import replace
    from reports.periods import Period
    from reports.stats import SHEET_KINDS, StatsService
    from storage import households

    path = tmp_path / "demo.sqlite3"
    if size == "small":
        shutil.copyfile(demo_file, path)
    else:
        await demo.build_demo(path, config, TODAY, size=size)
    db = await Database.open(path)
    clock = lambda: datetime(2026, 11, 5, 2, 0, tzinfo=UTC)  # noqa: E731
    stats = StatsService(db, replace(config, stats=replace(config.stats, chart_workers=0)),
                         clock=clock)
    try:
        async with db.read() as conn:
            (province,) = await areas.children(conn, None)
            (commune,) = await areas.find_areas(conn, "Xã Mường Tè", level="commune")
            (village,) = await areas.find_areas(conn, "Bản Nà Khan", level="village")
            states = {r.state for r in await households.registrations(conn, within=province)}
            waiting = await households.waiting(conn, within=commune,
                                               since=datetime(2020, 1, 1, tzinfo=UTC))
        assert states == set(households.REGISTRATION_STATES)
        assert waiting.registrations and waiting.assessments
        period = Period.of_month(Month(2026, 10))
        for area in (province, commune, village):
            for kind in stats.chart_kinds(area):
                assert await stats.chart_data(kind, area, period) is not None, (area.name, kind)
            for kind in SHEET_KINDS:
                assert await stats.sheet_data(kind, area, period) is not None, (area.name, kind)
            found = await stats.candidates(area, period)
            assert found.found and found.no_baseline is None, area.name
        summary = await stats.summary(village, period)
        assert summary.baseline_label == "cuối năm 2021" and summary.baseline_change < -50
    finally:
        stats.close()
        await db.close()


async def test_household_codes_name_one_household_of_a_commune(large_file):
    """Villages whose initials clash (Bản Pô Củm, Bản Pa Chải; Tổ dân phố 1 and 12) get
    distinct code prefixes, so a code typed in /ho finds one household of the commune."""
    db = await Database.open(large_file, migrate=False)
    try:
        async with db.read() as conn:
            rows = await fetch_all(conn, "SELECT a.parent_id, h.code, count(*) FROM households h"
                                   " JOIN areas a ON a.id = h.village_id"
                                   " GROUP BY a.parent_id, h.code HAVING count(*) > 1")
    finally:
        await db.close()
    assert [tuple(r) for r in rows] == []
