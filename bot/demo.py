"""The demo database: a small, clearly marked copy of a Lai Châu deployment to try the bot on.

One province ("Tỉnh Lai Châu (DEMO)", code 12) with three real communes (official names and
codes from ``data/vn-admin-units-2025.csv``), a few invented villages in each, a person with a
console identity for every role, and plausible monthly reports from the baseline (the yearly
review at the end of 2021) to last month, made through ``storage.reports.save_report`` (so
versions and the audit log are real). The figures fall as Lai Châu's did (DOMAIN.md §8:
19.46 % poor and 9.33 % near-poor at the end of 2024), most of it at each yearly review in
December, and respect every rule of the monthly form, including the poor-household balance
``poor = previous poor − exited + newly poor + fallen back``. Three villages keep part of
their household list: the households that registered to exit poverty (a registration in
every state) and a few more, with assessments waiting in /duyet.

The build is deterministic for a given ``today`` (seeded random numbers) and takes about a
second; it goes through a file beside the demo, renamed into place when complete. The
database is marked with the ``meta`` row ``demo = 1``; the featured personas (``--as
truong-thon`` …) and a spare invite code are recorded in ``meta`` too.

``size="large"`` builds a province the size a real one starts with (``_build_large``): the
same three communes with 62, 35 and 20 villages, the same featured people, household lists
for some villages (complete and partial), the same history (the last six months filed in chat,
the months before imported at go-live) with villages late, missing for months or never
reported, exit registrations in every state and assessments waiting for review. It lives in
its own file beside the small one (``path_for``).
"""

from __future__ import annotations

import itertools
import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import aiosqlite

from common.config import Config
from common.text import fold
from handlers.router import INVITE_ALPHABET
from reports.periods import Month, default_month
from reports.poverty import classify, standard_for
from storage import areas, invites, people
from storage import households as hh
from storage.audit import Actor
from storage.db import Database
from storage.meta import is_empty, meta_group, read_meta_group, set_meta
from storage.reports import MONTHLY_FORM, import_monthly, save_report

log = logging.getLogger(__name__)

CHANNEL = "console"
SEED = 12  # Lai Châu's province code
# The history starts with the baseline of the 2022–2025 standard (the review at the end of
# 2021, DOMAIN §5): «So với gốc» and the −50 % award rule have their starting figures.
START = Month(2021, 12)
# What the demo holds changes now and then (2: the history from the baseline, registrations
# and items waiting in /duyet in the small demo): a demo built by another version is rebuilt.
VERSION = 3
PROVINCE = ("12", "Tỉnh Lai Châu (DEMO)")
INVITE_CODE = "MUNGTE25"  # a spare village-head invite, shown by the console banner

# Featured personas, by the role keyword the console's ``--as`` accepts.
PERSONA_KINDS = ("village_head", "commune_officer", "province_officer", "admin")
SIZES = ("small", "large")


@dataclass(frozen=True)
class _Village:
    name: str
    head: str | None  # the village head's name; None: the commune officer files its reports
    late: bool = False  # the latest month is not filed yet
    speed: float = 1.0  # how fast its poverty falls, against its commune's pace
    households: int | None = None  # at the baseline (None: drawn at random)


@dataclass(frozen=True)
class _Pace:
    """How a village's poverty moves: its rates at the baseline (the end of 2021) and the
    percentage points they fall a year, most of it at the yearly review in December."""

    poor_rate: float
    near_rate: float
    poor_fall: float
    near_fall: float
    floor: float  # the poverty rate never falls below this


@dataclass(frozen=True)
class _Commune:
    code: str
    name: str  # exactly as in data/vn-admin-units-2025.csv
    urban: bool  # phường
    officer: str
    villages: tuple[_Village, ...]
    speed: float = 1.0  # how fast poverty falls here, against the province's pace


# Real communes (official 2025 codes); the villages and people are invented.
COMMUNES = (
    _Commune("03445", "Xã Mường Tè", False, "Nguyễn Thị Hoa", (
        # The featured village head; poor + near-poor more than halved since the baseline.
        _Village("Bản Nà Khan", "Lò Văn Páo", late=True, speed=1.3, households=110),
        _Village("Bản Phìn Khò", "Chu Hừ Xá"),
        _Village("Bản Nậm Củm", "Pờ Văn Sứ", speed=1.25),
        _Village("Bản Huổi Sâu", "Lý A Chừ", late=True, speed=0.8),
        _Village("Bản Huổi Lếch", None),  # no head yet: the spare invite is for this village
    ), speed=1.1),
    _Commune("03466", "Xã Bum Nưa", False, "Đèo Văn Dũng", (
        _Village("Bản Nậm Pục", "Tao Văn Ún"),
        _Village("Bản Pa Sang", "Giàng A Sử", late=True, speed=0.7),
        _Village("Bản Cang Hô", "Vàng Thị Mai"),
        _Village("Bản Nậm Hản", "Lò Văn Thanh"),
    ), speed=0.85),
    _Commune("03388", "Phường Đoàn Kết", True, "Phạm Thu Hà", (
        _Village("Tổ dân phố 5", "Nguyễn Văn Hùng"),
        _Village("Tổ dân phố 7", "Trần Thị Lan"),
        _Village("Tổ dân phố 9", "Hoàng Văn Tú", late=True),
    )),
)
# Villages of the small demo that keep part of their household list (the households that
# registered at the village meeting to exit poverty, and a few more), with the state each
# registration has reached, and how many assessments wait for the commune's decision.
SMALL_LISTS: dict[str, tuple[tuple[str, ...], int]] = {
    "Bản Nà Khan": (("registered", "under_review", "recognised", "not_yet", "withdrawn"), 2),
    "Bản Nậm Pục": (("registered", "registered", "under_review"), 1),
    "Tổ dân phố 7": (("registered", "recognised"), 0),
}
PROVINCE_OFFICER = "Trần Văn Minh"
ADMIN = "Lê Quang Huy"

# Notes village heads write now and then (data typed by the demo's people, not bot speech).
NOTES = (
    "Hỗ trợ giống ngô cho 5 hộ nghèo.",
    "Mô hình nuôi gà đồi của 3 hộ cho thu nhập khá.",
    "Vận động 2 hộ đăng ký thoát nghèo năm sau.",
    "Đường vào bản sạt lở, đi lại khó khăn.",
    "Tập huấn trồng sa nhân dưới tán rừng.",
    "Đề nghị hỗ trợ sửa nhà cho 1 hộ nghèo.",
    "Giới thiệu 4 lao động đi làm công ty.",
    "Hộ nghèo vay vốn trả lãi đúng hạn.",
)
DECEMBER_NOTE = "Đã họp thôn bình xét hộ nghèo, cận nghèo cuối năm."
FIXED_NOTE = "Sửa tổng số hộ gõ nhầm."

SETUP = Actor(None, "demo:setup")


class DemoError(Exception):
    """The demo cannot be built at this path (it holds a database that is not a demo)."""


def identity_of(name: str) -> str:
    """The console identity of a demo person: ``Lò Văn Páo`` → ``lo-van-pao``."""
    return "-".join(fold(name).split())


# ---- meta rows ----------------------------------------------------------------------------


async def demo_meta(conn: aiosqlite.Connection) -> dict[str, str] | None:
    """The demo's ``meta`` rows (``demo``, ``demo.*``), or None when this is no demo database."""
    rows = await meta_group(conn, "demo")
    return rows if rows and rows.get("demo") == "1" else None


async def demo_personas(conn: aiosqlite.Connection) -> dict[str, int]:
    """Featured person ids of a demo database by kind (``village_head``, ``admin`` …)."""
    meta = await demo_meta(conn) or {}
    return {kind: int(meta[f"demo.persona.{kind}"])
            for kind in PERSONA_KINDS if f"demo.persona.{kind}" in meta}


def read_demo_meta(path: str | Path) -> dict[str, str] | None:
    """The demo ``meta`` rows of the database file at ``path``; None if it is not a demo."""
    rows = read_meta_group(path, "demo")
    return rows if rows and rows.get("demo") == "1" else None


def _building(path: Path) -> Path:
    """Where the demo for ``path`` is built before it is renamed into place."""
    return path.with_name(f"{path.name}.building")


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _move(building: Path, path: Path) -> None:
    """Put the database built at ``building`` in the place of ``path`` (one rename)."""
    for suffix in ("-wal", "-shm", "-journal"):  # the old demo's log must not meet the new
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    building.replace(path)
    for suffix in ("-wal", "-shm"):  # none after a clean close; moved with it all the same
        if Path(f"{building}{suffix}").exists():
            Path(f"{building}{suffix}").replace(f"{path}{suffix}")


def _check_replaceable(path: Path, config: Config, reset: bool) -> None:
    """Refuse (``DemoError``) to replace anything at ``path`` but a demo, or, when asked to
    (``reset``), a database of nothing (what a build that stopped half-way left before
    builds went through ``_building``)."""
    if path.resolve() == Path(config.db_path).resolve():
        raise DemoError(f"the demo path {path} is the real database path")
    if not path.exists() or path.stat().st_size == 0 or read_demo_meta(path) is not None:
        return
    if not is_empty(path):
        raise DemoError(f"{path} holds a database that is not a demo; not replacing it")
    if not reset:
        raise DemoError(f"{path} holds an empty database that is not a demo (a demo build "
                        "that stopped half-way?); --reset-demo replaces it")


# ---- building -----------------------------------------------------------------------------


def path_for(path: str | Path, size: str = "small") -> Path:
    """Where the demo of ``size`` lives: ``path`` itself for the small one, a sibling file
    (``demo-large.sqlite3``) for the large one, so switching sizes rebuilds nothing."""
    path = Path(path)
    if size not in SIZES:
        raise ValueError(f"demo size must be one of {SIZES}, not {size!r}")
    return path if size == "small" else path.with_name(f"{path.stem}-{size}{path.suffix}")


async def build_demo(path: str | Path, config: Config, today: date, *,
                     size: str = "small", reset: bool = False) -> None:
    """Create (or recreate) the demo database at ``path``, with history up to ``today``.

    Built in a file beside it (``demo.sqlite3.building``) and renamed into place when
    complete, so a build that is killed half-way leaves the demo as it was (or none), never
    a half-built one; the next build starts that file afresh. Refuses (``DemoError``) to
    replace a file that is not a demo database, so a wrong path can never wipe real data
    (``reset``: an empty database is replaced, see ``_check_replaceable``).
    """
    if size not in SIZES:
        raise ValueError(f"demo size must be one of {SIZES}, not {size!r}")
    path = Path(path)
    _check_replaceable(path, config, reset)
    started = datetime.now(UTC)
    building = _building(path)
    _remove(building)  # what a killed build left
    db = await Database.open(building, synchronous=config.db_synchronous,
                             busy_timeout_ms=config.db_busy_timeout_ms)
    try:
        async with db.write() as conn:
            if size == "large":
                await _build_large(conn, config, today)
            else:
                await _build(conn, config, today)
            await set_meta(conn, "demo.size", size)
            await set_meta(conn, "demo.version", VERSION)
    except BaseException:
        await db.close()
        _remove(building)
        raise
    await db.close()  # the last connection checkpoints the log into the file and drops it
    _check_replaceable(path, config, reset)  # nothing else appeared there meanwhile
    _move(building, path)
    log.info("built the %s demo database %s for %s in %.2f s", size, path, today,
             (datetime.now(UTC) - started).total_seconds())


async def ensure_demo(path: str | Path, config: Config, today: date, *,
                      reset: bool = False, size: str = "small") -> bool:
    """Build the demo when missing, asked to, built in an earlier month or by an earlier
    version of this module (``VERSION``); True if built."""
    meta = None if reset else read_demo_meta(path)
    if meta is not None:
        built_for = meta.get("demo.built_for", "")
        if (built_for[:7] == Month.of(today).key and meta.get("demo.size", "small") == size
                and meta.get("demo.version") == str(VERSION)):
            return False
        log.info("the demo database was built for %s; rebuilding it for %s", built_for, today)
    if size == "small" and not reset:
        await build_demo(path, config, today)
    else:
        await build_demo(path, config, today, size=size, reset=reset)
    return True


def _local(day: date, hour: int, minute: int, config: Config) -> datetime:
    return datetime.combine(day, time(hour, minute), config.timezone).astimezone(UTC)


async def _province(conn, config: Config, at: datetime
                    ) -> tuple[areas.Area, dict[str, int], str, str]:
    """The demo province with its officer and admin: (province, personas, the communes' level,
    the villages' level)."""
    levels = config.level_keys()
    village_level = config.report_level
    commune_level = levels[max(levels.index(village_level) - 1, 0)]
    province = await areas.add_area(conn, parent=None, level=levels[0], name=PROVINCE[1],
                                    code=PROVINCE[0], actor=SETUP, at=at)
    personas = {"province_officer": await _person(conn, PROVINCE_OFFICER, "officer", province,
                                                  at),
                "admin": await _person(conn, ADMIN, "admin", province, at)}
    return province, personas, commune_level, village_level


async def _person(conn, name: str, role: str, area: areas.Area, at: datetime) -> int:
    person_id = await people.create_person(conn, name, actor=SETUP, at=at)
    ident = identity_of(name)
    await people.link_identity(conn, person_id, channel=CHANNEL, external_id=ident,
                               chat_id=ident, display_name=name, actor=SETUP, at=at)
    await people.grant_role(conn, person_id, role, area, actor=SETUP, at=at)
    return person_id


def _months(today: date) -> list[Month]:
    """The demo's months: from the baseline (``START``) to the month before ``today``."""
    months, month = [], START
    while month < Month.of(today):
        months.append(month)
        month = month.next()
    return months


async def _build(conn: aiosqlite.Connection, config: Config, today: date) -> None:
    rng = random.Random(SEED)
    months = _months(today)
    last = months[-1]
    first_day = date(months[0].year, months[0].month, 1)
    setup_at = _local(first_day - timedelta(days=20), 8, 0, config)
    # Filed this month or later is not yet due: leave the latest month to file only while a
    # village head may still file it (else the head files the current month, over a full history).
    latest_open = default_month(today, config.monthly.previous_month_until_day) == last

    province, personas, commune_level, village_level = await _province(conn, config, setup_at)
    invite_village: areas.Area | None = None
    listed: list[tuple[_LargeVillage, tuple[str, ...], int]] = []
    for commune in COMMUNES:
        c_area = await areas.add_area(conn, parent=province, level=commune_level,
                                      name=commune.name, code=commune.code,
                                      urban=commune.urban, actor=SETUP, at=setup_at)
        officer_id = await _person(conn, commune.officer, "officer", c_area, setup_at)
        personas.setdefault("commune_officer", officer_id)
        for village in commune.villages:
            v_area = await areas.add_area(conn, parent=c_area, level=village_level,
                                          name=village.name, urban=commune.urban,
                                          actor=SETUP, at=setup_at)
            if village.head is not None:
                head_id = await _person(conn, village.head, "village_head", v_area, setup_at)
                personas.setdefault("village_head", head_id)
                reporter = Actor(head_id, f"demo:{identity_of(village.head)}")
            else:
                invite_village = v_area
                reporter = Actor(officer_id, f"demo:{identity_of(commune.officer)}")
            corrector = Actor(officer_id, f"demo:{identity_of(commune.officer)}")
            skip_last = village.late and (latest_open or village is not COMMUNES[0].villages[0])
            pace = _pace(rng, commune.urban, commune.speed * village.speed)
            history = _simulate(rng, commune.urban, months, pace, village.households)
            for month, data in zip(months, history, strict=True):
                if skip_last and month == last:
                    continue
                await _file(conn, rng, config, today, v_area, month, data, reporter,
                            corrector)
            if village.name in SMALL_LISTS:
                states, assessments = SMALL_LISTS[village.name]
                listed.append((_LargeVillage(v_area, reporter, corrector, "ok", "partial",
                                             history[-1]), states, assessments))
    names = _Names(rng, {v.head for c in COMMUNES for v in c.villages if v.head}
                   | {c.officer for c in COMMUNES} | {PROVINCE_OFFICER, ADMIN})
    filing = default_month(today, config.monthly.previous_month_until_day)
    for village, states, assessments in listed:
        await _small_list(conn, rng, config, today, filing, village, names, states,
                          assessments)
    if invite_village is not None:
        await invites.create_invite(
            conn, code=INVITE_CODE, role="village_head", area_id=invite_village.id,
            full_name="", expires_at=_local(today + timedelta(days=365), 0, 0, config),
            actor=SETUP, at=setup_at,
        )
        await set_meta(conn, "demo.invite", INVITE_CODE)
        await set_meta(conn, "demo.invite_area", invite_village.name)
    await set_meta(conn, "demo", 1)
    await set_meta(conn, "demo.built_for", today.isoformat())
    for kind, person_id in personas.items():
        await set_meta(conn, f"demo.persona.{kind}", person_id)


async def _file(conn, rng: random.Random, config: Config, today: date, area: areas.Area,
                month: Month, data: dict, reporter: Actor, corrector: Actor) -> None:
    """Save one month as its village head would have: early the next month, now and then
    corrected by the commune officer a day later (a second version)."""
    following = month.next()
    day = date(following.year, following.month, rng.randint(1, 7))
    at = _local(day, rng.randint(7, 20), rng.randint(0, 59), config)
    latest = _local(today, 0, 0, config) - timedelta(hours=1)
    at = min(at, latest)
    if rng.random() < 0.04:
        typo = dict(data, total=data["total"] + 10)
        await save_report(conn, area_id=area.id, form=MONTHLY_FORM, period=month.key,
                          data=typo, actor=reporter, via="demo", at=at - timedelta(days=1))
        data = dict(data, note=data["note"] or FIXED_NOTE)
        reporter = corrector
    await save_report(conn, area_id=area.id, form=MONTHLY_FORM, period=month.key, data=data,
                      actor=reporter, via="demo", at=at)


def _pace(rng: random.Random, urban: bool, speed: float = 1.0) -> _Pace:
    """A village's poverty at the baseline and how fast it falls: in the mountains about a
    third of households poor at the end of 2021, down 3–5 points a year (Lai Châu: 19.46 %
    poor and 9.33 % near-poor at the end of 2024, DOMAIN §8); in a town's ward a few percent.
    ``speed`` scales the fall (communes and villages differ)."""
    if urban:
        return _Pace(rng.uniform(0.05, 0.085), rng.uniform(0.06, 0.09),
                     speed * rng.uniform(0.009, 0.014), rng.uniform(0.005, 0.009), 0.004)
    return _Pace(rng.uniform(0.31, 0.43), rng.uniform(0.11, 0.14),
                 speed * rng.uniform(0.032, 0.048), rng.uniform(0.006, 0.01), 0.02)


ONGOING_SHARE = 0.4  # of a year's exits, recognised by the monthly ongoing review (Feb–Sep)


def _simulate(rng: random.Random, urban: bool, months: list[Month], pace: _Pace,
              households: int | None = None) -> list[dict]:
    """Monthly figures of one village over ``months`` (from the baseline), consistent month
    to month (``poor = previous poor − exited + newly poor + fallen back``). Most households
    leave poverty at the yearly review (December, DOMAIN §6), a few through the ongoing
    review in between; now and then a household becomes poor or falls back. ``households``:
    how many the village has at the baseline (else drawn at random)."""
    total = rng.randint(120, 220) if urban else rng.randint(80, 200)
    total = households or total
    growth = 0.25 if urban else 0.15
    em_share = rng.uniform(0.35, 0.65) if urban else rng.uniform(0.9, 1.0)
    loan_share = rng.uniform(0.4, 0.6)

    def goal(year: int, rate: float, fall: float, floor: float) -> int:
        """Households poor (near-poor) after the review at the end of ``year``."""
        return round(total * max(rate - fall * (year - START.year), floor))

    poor = goal(START.year, pace.poor_rate, pace.poor_fall, pace.floor)
    near = goal(START.year, pace.near_rate, pace.near_fall, 0.02)
    ongoing: list[int] = []  # this year's exits by the ongoing review, month by month
    out = []
    for month in months:
        if month == START:  # the baseline: the review that closed 2021
            exited, newly, fallen = round(total * 0.04), 1, 0
        else:
            if rng.random() < growth:
                total += 1  # a young family sets up its own household
            if month.month == 1:  # this year's ongoing exits, spread over February–September
                due = max(0, poor - goal(month.year, pace.poor_rate, pace.poor_fall,
                                         pace.floor))
                ongoing = [0] * 12
                for _ in range(round(due * ONGOING_SHARE)):
                    ongoing[rng.randint(2, 9) - 1] += 1
            newly = 1 if rng.random() < 0.06 else 0
            fallen = 1 if rng.random() < 0.02 else 0
            if month.month == 12:  # the yearly review: down to this year's goal
                target = goal(month.year, pace.poor_rate, pace.poor_fall, pace.floor)
                newly = min(newly + rng.randint(0, 2), max(0, target - fallen))
                exited = max(poor + newly + fallen - target, 0)
            else:
                exited = ongoing[month.month - 1] if ongoing else 0
            exited = min(exited, poor)
            poor = poor - exited + newly + fallen
            if month.month == 12:
                near = goal(month.year, pace.near_rate, pace.near_fall, 0.02)
            else:
                near += exited // 2 - newly - (1 if rng.random() < 0.1 else 0)
        near = max(0, min(near, total - poor))
        loan_share = min(loan_share + 0.0025, 0.85)
        out.append({
            "total": total,
            "poor": poor,
            "near_poor": near,
            "exited": exited,
            "newly_poor": newly,
            "fallen_back": fallen,
            "em_poor": min(poor, round(poor * em_share)),
            "loans": min(poor + near, round((poor + near) * loan_share)),
            "support_vnd": _support(rng, month, urban),
            "note": DECEMBER_NOTE if month.month == 12 else (
                rng.choice(NOTES) if rng.random() < 0.12 else ""),
        })
    return out


def _support(rng: random.Random, month: Month, urban: bool) -> int:
    """Money and goods raised for poor households that month, in đồng."""
    scale = 2 if urban else 1
    if month.month in (10, 11):  # the peak month "Vì người nghèo", 17 Oct – 18 Nov
        return rng.randint(5, 30) * 1_000_000 * scale
    if month.month in (1, 2):  # gifts before Tết
        return rng.randint(2, 15) * 1_000_000 * scale
    if rng.random() < 0.6:
        return 0
    return rng.randint(1, 20) * 100_000 * scale


# ---- the large demo -----------------------------------------------------------------------

# Villages per commune in the large demo (the small demo's villages come first).
LARGE_VILLAGES = {"03445": 62, "03466": 35, "03388": 20}
IMPORTED_BEFORE = 6  # the last 6 months were filed in chat; older ones imported at go-live
# Village names are invented from syllables of Lai Châu's place names; people's names too.
_FIRST = ("Nà", "Phìn", "Huổi", "Nậm", "Pa", "Cang", "Lả", "Hua", "Sì", "Tà", "Pú", "Chang",
          "Xà", "Pắc", "Ló", "Nhù", "Mò", "Ka", "Tạng", "Pô")
_SECOND = ("Khan", "Khò", "Củm", "Sâu", "Lếch", "Pục", "Sang", "Hô", "Hản", "Lùng", "Chải",
           "Tở", "Sỏ", "Thàng", "Vì", "Lay", "Ma", "Ngà", "Mì", "Cấu", "Bó", "Pinh", "Há")
_FAMILY = ("Lò", "Pờ", "Lý", "Chu", "Tao", "Giàng", "Vàng", "Đèo", "Hoàng", "Lù", "Sùng",
           "Mào", "Phàn", "Tẩn", "Lường", "Quàng", "Hà", "Khoàng")
_MIDDLE = ("Văn", "Thị", "A", "Seo", "Văn", "Thị")
_GIVEN = ("Páo", "Sứ", "Chừ", "Xá", "Ún", "Sử", "Mai", "Thanh", "Hùng", "Lan", "Tú", "Dũng",
          "Pó", "Khoa", "Sinh", "Chớ", "Dế", "Phử", "Sáng", "Lả", "Cương", "Pản", "Duyên",
          "Hiền", "Chang", "Lếnh", "Mẩy", "Xuân")
# Every this-many generated villages: a complete household list, a partial one, no head yet.
COMPLETE_EVERY, PARTIAL_EVERY, NO_HEAD_EVERY = 8, 13, 15
PARTIAL_SIZE = 25
# The village whose head is not the featured one but whose list is partial (issue 11 item 4).
PARTIAL_VILLAGE = "Bản Phìn Khò"


@dataclass
class _LargeVillage:
    area: areas.Area
    reporter: Actor
    corrector: Actor
    plan: str  # ok | late | gap (3 months missing) | lapsed (14 missing) | new (none)
    household_list: str = ""  # "" | complete | partial
    filed: dict | None = None  # the latest filed month's figures
    pace: _Pace | None = None  # how its poverty falls


class _Names:
    """Unique people's names and village names, drawn from the syllables above."""

    def __init__(self, rng: random.Random, taken: set[str]):
        self.rng, self.taken = rng, {fold(n) for n in taken}

    def _unique(self, make) -> str:
        for _ in range(10_000):
            name = make()
            if fold(name) not in self.taken:
                self.taken.add(fold(name))
                return name
        raise RuntimeError("ran out of demo names")

    def person(self) -> str:
        r = self.rng
        return self._unique(lambda: f"{r.choice(_FAMILY)} {r.choice(_MIDDLE)} {r.choice(_GIVEN)}")

    def anyone(self) -> str:
        """A name that may repeat (households' heads: namesakes are common in a village)."""
        r = self.rng
        return f"{r.choice(_FAMILY)} {r.choice(_MIDDLE)} {r.choice(_GIVEN)}"

    def village(self) -> str:
        r = self.rng
        return self._unique(lambda: f"Bản {r.choice(_FIRST)} {r.choice(_SECOND)}")

    def street(self) -> str:
        """``Tổ dân phố 1``, ``2``, … (the first number not yet used)."""
        numbers = iter(range(1, 10_000))
        return self._unique(lambda: f"Tổ dân phố {next(numbers)}")


def _plan(rng: random.Random, index: int, count: int) -> str:
    """How a generated village has reported (the 7th lapsed, the last one never)."""
    if index == count - 1:
        return "new"
    if index == 6:
        return "lapsed"
    roll = rng.random()
    return "late" if roll < 0.12 else "gap" if roll < 0.16 else "ok"


async def _build_large(conn: aiosqlite.Connection, config: Config, today: date) -> None:
    rng = random.Random(SEED * 1000 + 7)
    months = _months(today)
    last = months[-1]
    first_day = date(months[0].year, months[0].month, 1)
    setup_at = _local(first_day - timedelta(days=20), 8, 0, config)
    go_live = months[-IMPORTED_BEFORE]
    go_live_at = _local(date(go_live.year, go_live.month, 1), 8, 0, config)
    latest_open = default_month(today, config.monthly.previous_month_until_day) == last
    taken = {v.head for c in COMMUNES for v in c.villages if v.head}
    taken |= {c.officer for c in COMMUNES} | {PROVINCE_OFFICER, ADMIN}
    names = _Names(rng, taken)
    village_names = _Names(rng, {v.name for c in COMMUNES for v in c.villages})

    province, personas, commune_level, village_level = await _province(conn, config, setup_at)
    villages: list[_LargeVillage] = []
    invite_areas: list[areas.Area] = []
    for commune in COMMUNES:
        c_area = await areas.add_area(conn, parent=province, level=commune_level,
                                      name=commune.name, code=commune.code,
                                      urban=commune.urban, actor=SETUP, at=setup_at)
        officer_id = await _person(conn, commune.officer, "officer", c_area, setup_at)
        personas.setdefault("commune_officer", officer_id)
        corrector = Actor(officer_id, f"demo:{identity_of(commune.officer)}")
        count = LARGE_VILLAGES[commune.code]
        shared_head: tuple[int, str] | None = None  # a head of two villages (rural communes)
        for index in range(count):
            known = commune.villages[index] if index < len(commune.villages) else None
            if known is not None:
                name, head = known.name, known.head
                plan = "late" if known.late else "ok"
            else:
                generated = index - len(commune.villages)
                name = village_names.street() if commune.urban else village_names.village()
                head = None if generated % NO_HEAD_EVERY == NO_HEAD_EVERY - 1 else \
                    names.person()
                plan = _plan(rng, index, count)
            v_area = await areas.add_area(conn, parent=c_area, level=village_level, name=name,
                                          urban=commune.urban, actor=SETUP, at=setup_at)
            if head is None:
                invite_areas.append(v_area)
                reporter = corrector
            elif known is None and not commune.urban and index == len(commune.villages) + 1:
                shared_head = (await _person(conn, head, "village_head", v_area, setup_at),
                               head)
                reporter = Actor(shared_head[0], f"demo:{identity_of(head)}")
            elif known is None and shared_head is not None and \
                    index == len(commune.villages) + 2:
                await people.grant_role(conn, shared_head[0], "village_head", v_area,
                                        actor=SETUP, at=setup_at)
                reporter = Actor(shared_head[0], f"demo:{identity_of(shared_head[1])}")
            else:
                head_id = await _person(conn, head, "village_head", v_area, setup_at)
                personas.setdefault("village_head", head_id)
                reporter = Actor(head_id, f"demo:{identity_of(head)}")
            speed = commune.speed * (known.speed if known else rng.uniform(0.75, 1.3))
            village = _LargeVillage(v_area, reporter, corrector, plan, pace=_pace(
                rng, commune.urban, speed))
            if known is not None:
                village.household_list = "complete" if index == 0 else (
                    "partial" if name == PARTIAL_VILLAGE else "")
            elif index % COMPLETE_EVERY == 3:
                village.household_list = "complete"
            elif index % PARTIAL_EVERY == 5:
                village.household_list = "partial"
            villages.append(village)
    featured = villages[0]
    imported: list[tuple[int, str, dict]] = []
    for village in villages:
        history = _simulate(rng, village.area.urban, months, village.pace)
        skip = {"ok": 0, "late": 1, "gap": 3, "lapsed": 14, "new": len(months)}[village.plan]
        if village.plan == "late" and not latest_open and village is featured:
            skip = 0
        for i, (month, data) in enumerate(zip(months, history, strict=True)):
            if i >= len(months) - skip:
                break
            village.filed = data
            if i < len(months) - IMPORTED_BEFORE:
                imported.append((village.area.id, month.key, data))
            else:
                await _file(conn, rng, config, today, village.area, month, data,
                            village.reporter, village.corrector)
    await import_monthly(conn, imported, actor=SETUP, via="import", at=go_live_at)
    filing = default_month(today, config.monthly.previous_month_until_day)
    await _households(conn, rng, config, today, filing, villages, names)
    for number, area in enumerate(invite_areas, start=1):
        code = INVITE_CODE if number == 1 else INVITE_CODE[:5] + "".join(
            INVITE_ALPHABET[(number * 7 + k * 11) % len(INVITE_ALPHABET)] for k in range(3))
        await invites.create_invite(
            conn, code=code, role="village_head", area_id=area.id, full_name="",
            expires_at=_local(today + timedelta(days=365), 0, 0, config), actor=SETUP,
            at=setup_at)
    await set_meta(conn, "demo.invite", INVITE_CODE)
    await set_meta(conn, "demo.invite_area", invite_areas[0].name)
    await set_meta(conn, "demo", 1)
    await set_meta(conn, "demo.built_for", today.isoformat())
    for kind, person_id in personas.items():
        await set_meta(conn, f"demo.persona.{kind}", person_id)


def _statuses(rng: random.Random, data: dict) -> list[hh.NewHousehold]:
    """A complete household list whose counts are the village's reported figures."""
    total, poor, near = data["total"], data["poor"], data["near_poor"]
    em_poor, loans = data["em_poor"], data["loans"]
    statuses = ["poor"] * poor + ["near_poor"] * near + ["average"] * (total - poor - near)
    for i in range(poor + near, total):
        if rng.random() < 0.05:
            statuses[i] = "other"
    return _households_of(rng, statuses, em_poor=em_poor, loans=loans)


def _households_of(rng: random.Random, statuses: list[str], *, em_poor: int,
                   loans: int) -> list[hh.NewHousehold]:
    """Households with ``statuses``: the first ``em_poor`` poor ones of an ethnic minority,
    ``loans`` of the poor and near-poor with a loan."""
    out = []
    poor_seen = needy_seen = 0
    for status in statuses:
        needy = status in ("poor", "near_poor")
        if status == "poor":
            poor_seen += 1
        if needy:
            needy_seen += 1
        minority = poor_seen <= em_poor if status == "poor" else rng.random() < 0.8
        out.append(hh.NewHousehold(
            code="", head_name="", status=status, ethnic_minority=minority,
            no_work_capacity=status == "poor" and rng.random() < 0.1,
            has_merit=rng.random() < 0.03, has_loan=needy and needy_seen <= loans))
    return out


def _code_prefix(name: str) -> str:
    """«Bản Nà Khan» → NK, «Tổ dân phố 12» → DP12: the initials after the first word, a
    number whole."""
    words = fold(name).upper().split()
    rest = words[1:] or words
    return "".join(w if w.isdigit() else w[0] for w in rest)[:5]


def _prefixes(villages: list[_LargeVillage]) -> dict[int, str]:
    """Each village's household-code prefix, unique within its commune (a second «PC» is
    «PC2»), so that a code names one household of the commune."""
    taken: set[tuple[int | None, str]] = set()
    out = {}
    for village in villages:
        base = prefix = _code_prefix(village.area.name)
        n = 1
        while (village.area.parent_id, prefix) in taken:
            n += 1
            prefix = f"{base}{n}"
        taken.add((village.area.parent_id, prefix))
        out[village.area.id] = prefix
    return out


# How far each state of an exit registration is from «registered» (DOMAIN §7).
_STATE_PATHS = {"registered": (), "under_review": ("under_review",),
                "recognised": ("under_review", "recognised"),
                "not_yet": ("under_review", "not_yet"), "withdrawn": ("withdrawn",)}
_PLANS = (("livestock", "Nuôi 2 con bò sinh sản", ("loan", "breeds")),
          ("crops", "Trồng sa nhân dưới tán rừng", ("training",)),
          ("wage_work", "Đi làm công ty ở Bắc Ninh", ()),
          ("crops", "Trồng 1 ha quế, xen ngô", ("loan",)),
          ("business", "Mở quán tạp hóa nhỏ ở đầu bản", ("loan", "training")))


async def _register(conn, config: Config, today: date, filing: Month,
                    village: _LargeVillage, households: list, states: Iterable[str]) -> None:
    """One voluntary exit registration per state, by ``households`` in turn: made at a
    village meeting this year (the year of the month being filed, so this year's funnel
    shows them), then moved on by the commune officer to that state."""
    officer, window = village.corrector, config.poverty.recently_exited_months
    first_day = date(filing.year, 1, 5)
    now = _local(today, 0, 0, config) - timedelta(hours=1)
    decided_on = max(first_day, min(date(filing.year, filing.month, 10), today))
    for n, (household, state) in enumerate(zip(households, states, strict=False)):
        registered_on = max(first_day, min(today, today - timedelta(days=90 - 3 * n)))
        at = min(_local(registered_on + timedelta(days=2), 9, 0, config), now)
        kind, text, support = _PLANS[n % len(_PLANS)]
        reg = await hh.register_exit(
            conn, household.id, target_year=filing.year + (n % 2), plan_kind=kind,
            plan_text=text, support_asked=support, registered_on=registered_on,
            actor=village.reporter, at=at)
        for step, next_state in enumerate(_STATE_PATHS[state], start=1):
            step_at = min(max(at, _local(decided_on, 9 + step, 0, config)), now)
            await hh.set_registration_state(
                conn, reg.id, next_state, actor=officer, at=step_at,
                reason=None if next_state in ("under_review", "recognised") else
                "Chưa đủ điều kiện, xét lại cuối năm" if next_state == "not_yet" else
                "Hộ xin rút để ổn định sản xuất thêm một năm",
                effective_date=decided_on, exit_window_months=window)


async def _small_list(conn, rng: random.Random, config: Config, today: date, filing: Month,
                      village: _LargeVillage, names: _Names, states: tuple[str, ...],
                      assessments: int) -> None:
    """Part of a village's household list (the small demo): the poor households that
    registered to exit at the village meeting, with their registrations in ``states``, a
    few more poor, near-poor and average ones, and ``assessments`` waiting in /duyet."""
    statuses = (["poor"] * (len(states) + 2) + ["near_poor"] * 3 + ["average"] * 4)
    new = _households_of(rng, statuses, em_poor=len(states), loans=len(states))
    prefix = _code_prefix(village.area.name)
    new = [hh.NewHousehold(f"{prefix}-{n:03d}", names.anyone(), h.status, h.ethnic_minority,
                           h.no_work_capacity, h.has_merit, h.has_loan)
           for n, h in enumerate(new, start=1)]
    at = _local(today - timedelta(days=120), 9, 0, config)
    added = await hh.add_households(conn, village.area.id, new,
                                    status_since=date(START.year + 1, 1, 1),
                                    actor=village.corrector, at=at)
    poor = [h for h in added if h.status == "poor"]
    average = [h for h in added if h.status == "average"]
    await _register(conn, config, today, filing, village, poor, states)
    standard = standard_for(config.poverty, today.year)
    recent = _local(today, 0, 0, config) - timedelta(days=12)
    if assessments >= 1:  # a poor household now above the line
        await _assess(conn, standard, village, poor[len(states)], 2_100_000, 1, recent)
    if assessments >= 2:  # an average one below it, assessed twice (the newer one counts)
        await _assess(conn, standard, village, average[0], 1_200_000, 4, recent)
        await _assess(conn, standard, village, average[0], 1_300_000, 3,
                      recent + timedelta(days=5))


async def _households(conn, rng: random.Random, config: Config, today: date, filing: Month,
                      villages: list[_LargeVillage], names: _Names) -> None:
    """Household lists, exit registrations in every state, assessments waiting for review and
    support records, in the villages that keep a list."""
    since = date(today.year - 2, 1, 1)
    at = _local(today - timedelta(days=60), 9, 0, config)
    standard = standard_for(config.poverty, today.year)
    decided = itertools.cycle(("recognised", "under_review", "not_yet", "withdrawn"))
    prefixes = _prefixes(villages)
    for village in villages:
        if not village.household_list or village.filed is None:
            continue
        if village.household_list == "complete":
            new = _statuses(rng, village.filed)
        else:
            pool = ["poor"] * 6 + ["near_poor"] * 4 + ["average"] * 15
            rng.shuffle(pool)
            new = _households_of(rng, pool[:PARTIAL_SIZE], em_poor=4, loans=5)
        prefix = prefixes[village.area.id]
        new = [hh.NewHousehold(f"{prefix}-{n:03d}", names.anyone(), h.status,
                               h.ethnic_minority, h.no_work_capacity, h.has_merit, h.has_loan)
               for n, h in enumerate(new, start=1)]
        officer = village.corrector
        added = await hh.add_households(conn, village.area.id, new, status_since=since,
                                        actor=officer, at=at)
        poor = [h for h in added if h.status == "poor"]
        average = [h for h in added if h.status == "average"]
        # Three registrations to exit: one waits, one is under review in every other village,
        # the third has gone on to the next state in line.
        await _register(conn, config, today, filing, village, poor[:3],
                        ("registered", "under_review" if len(poor) % 2 else "registered",
                         next(decided)))
        # Assessments waiting for an officer: a poor household now above the line, an average
        # one below it; the second assessed twice (the newer one supersedes the older).
        if len(poor) > 3:
            await _assess(conn, standard, village, poor[3], 2_100_000, 1, at)
        if average:
            await _assess(conn, standard, village, average[0], 1_200_000, 4, at)
            await _assess(conn, standard, village, average[0], 1_800_000, 1,
                          at + timedelta(days=7))
        if poor:
            await hh.add_support(conn, poor[0].id, kind="breeds", amount_vnd=3_000_000,
                                 source="Quỹ Vì người nghèo xã",
                                 given_on=today - timedelta(days=40), actor=officer, at=at)


async def _assess(conn, standard, village: _LargeVillage, household, income: int,
                  lacking: int, at: datetime) -> None:
    deprived = standard.indicator_keys[:lacking]
    result = classify(standard, income_per_person=income, deprived=deprived,
                      urban=village.area.urban)
    await hh.record_assessment(
        conn, household.id, year=at.year, income_per_person=income, deprived=deprived,
        standard_name=standard.name, suggested_status=result.status, actor=village.reporter,
        at=at)
