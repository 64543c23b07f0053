"""The operator's command line: ``python -m bot <command>``.

Start the bot, bring the database up to date, import the village roster, hand out invite codes
and look at areas, people, invites, reports and the audit log. Every change is written to the
audit log as ``cli:<operating-system user>``.

Exit codes: 0 success; 1 the command failed (bad roster rows, unknown or ambiguous area, config
error, ...); 2 wrong usage (unknown option, bad value). Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import importlib
import json
import os
import re
import secrets
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot import household_import, importer
from bot.importer import ADMIN_UNITS, AdminUnits, Levels, RosterError, base_name, pick
from common.config import Config, ConfigError, load_config
from common.text import fold
from handlers.router import INVITE_ALPHABET, INVITE_LENGTH, show_invite
from storage import (
    areas,
    audit,
    backup,
    health,
    households,
    instance,
    invites,
    migrations,
    outbox,
    people,
    reports,
)
from storage.areas import Area
from storage.db import Database

PROG = "python -m bot"
ROLES = ("village_head", "officer", "admin")
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class CliError(Exception):
    """A user error: printed as one line on stderr; ``code`` is the exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILED):
        super().__init__(message)
        self.code = code


class _Rollback(Exception):
    """Raised inside a write transaction to undo it (dry run, bad rows)."""


def cli_actor() -> audit.Actor:
    """The audit actor of this command line: ``cli:<user>``."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in a bare container
        user = "unknown"
    return audit.Actor(None, f"cli:{user}")


def now() -> datetime:
    return datetime.now(UTC)


def local(config: Config, moment: datetime | str | None) -> str:
    """A stored time shown in the configured time zone: ``2026-11-05 09:00``."""
    if moment is None:
        return "-"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(config.timezone).strftime("%Y-%m-%d %H:%M")


def show_code(code: str) -> str:
    return show_invite(code)


def new_code() -> str:
    """``INVITE_LENGTH`` (10) characters from ``INVITE_ALPHABET``, cryptographically random."""
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))


def table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    cells = [[str(c) for c in header]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells
    )


@asynccontextmanager
async def _database(config: Config) -> AsyncIterator[Database]:
    """The configured database (migrated), closed when the block ends."""
    db = await Database.open(
        config.db_path, synchronous=config.db_synchronous,
        busy_timeout_ms=config.db_busy_timeout_ms,
    )
    try:
        yield db
    finally:
        await db.close()


def _run(coro) -> int:
    return asyncio.run(coro)


# --- finding an area ---------------------------------------------------------------------------

async def area_label(conn, area: Area) -> str:
    """``Tỉnh Lai Châu › Xã Mường Tè › Bản Nà Khan``."""
    return " › ".join(a.name for a in [*await areas.ancestors(conn, area), area])


async def _describe(conn, config: Config, found: Sequence[Area], limit: int = 10) -> str:
    lines = [
        f"  #{a.id}  {await area_label(conn, a)}  ({config.level_name(a.level)}"
        + (f", code {a.code})" if a.code else ")")
        for a in found[:limit]
    ]
    if len(found) > limit:
        lines.append(f"  … and {len(found) - limit} more")
    return "\n".join(lines)


async def _by_name(conn, config: Config, text: str, within: Area | None) -> Area:
    candidates = await areas.find_areas(conn, base_name(text), within=within, limit=1000)
    found = pick(candidates, text, lambda a: a.name)
    if len(found) == 1:
        return found[0]
    where = f" under {within.name}" if within else ""
    if found:
        raise CliError(
            f"area «{text}»{where} is ambiguous; use the id (#N) or a path like "
            f"«Commune/Village»:\n{await _describe(conn, config, found)}"
        )
    hint = ""
    if candidates:
        hint = f"; similar names:\n{await _describe(conn, config, candidates, 5)}"
    raise CliError(f"no area named «{text}»{where}{hint}")


async def resolve_area(conn, config: Config, text: str) -> Area:
    """The area ``text`` names: ``#12`` / ``id:12``, ``code:03445``, a bare number (id or
    official code), a name without diacritics, or a path ``Mường Tè/Nà Khan``."""
    text = text.strip()
    if not text:
        raise CliError("empty area", EXIT_USAGE)
    match = re.fullmatch(r"(?:#|id:)\s*(\d+)", text, re.IGNORECASE)
    if match:
        area = await areas.get_area(conn, int(match[1]))
        if area is None:
            raise CliError(f"no area with id {match[1]}")
        return area
    match = re.fullmatch(r"code:\s*(\S+)", text, re.IGNORECASE)
    if match or (text.isascii() and text.isdigit()):  # "²".isdigit(), and int() fails on it
        code = match[1] if match else text
        found = {a.id: a for a in await areas.areas_by_code(conn, code)}
        if not match:
            by_id = await areas.get_area(conn, int(text))
            if by_id is not None:
                found.setdefault(by_id.id, by_id)
        if len(found) == 1:
            return next(iter(found.values()))
        if not found:
            raise CliError(f"no area with id or code {text}")
        raise CliError(
            f"«{text}» is both an id and an official code; write #{text} for the id or "
            f"code:{text} for the code:\n{await _describe(conn, config, list(found.values()))}"
        )
    area = None
    for part in re.split(r"\s*(?:/|›|>)\s*", text):
        if part:
            area = await _by_name(conn, config, part, area)
    if area is None:
        raise CliError(f"no area named «{text}»")
    return area


# --- commands ----------------------------------------------------------------------------------

def _app():
    try:
        return importlib.import_module("bot.app")
    except ModuleNotFoundError as exc:
        if exc.name != "bot.app":
            raise
        raise CliError("bot.app is missing: this build cannot start the bot") from exc


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    """Start the bot (on the messengers with a token, else the console)."""
    return int(_app().run(config, mode=args.mode or "auto") or 0)


def cmd_console(config: Config, args: argparse.Namespace) -> int:
    """Chat with the bot in this terminal."""
    demo = True if (args.demo or args.reset_demo or args.size) else None
    return int(
        _app().run(
            config, mode="console", person=args.person, demo=demo, reset_demo=args.reset_demo,
            script=args.script, **({"demo_size": args.size} if args.size else {}),
        )
        or 0
    )


async def cmd_migrate(config: Config, args: argparse.Namespace) -> int:
    """Apply pending migrations and list them."""
    db = await Database.open(config.db_path, migrate=False)
    try:
        async with db.read() as conn:
            before = {m["version"] for m in await migrations.applied_migrations(conn)}
    finally:
        await db.close()
    async with _database(config) as db:
        async with db.read() as conn:
            done = await migrations.applied_migrations(conn)
    print(f"Database: {config.db_path}")
    for m in done:
        state = "applied now" if m["version"] not in before else "applied"
        print(f"  {m['version']:03d}  {m['name']:<30} {state} {local(config, m['applied_at'])}")
    version = max((m["version"] for m in done), default=0)
    new = sum(1 for m in done if m["version"] not in before)
    print(f"Schema version {version}" + (f" ({new} applied now)." if new else ", up to date."))
    return EXIT_OK


async def _import(config: Config, entries, levels: Levels, dry_run: bool):
    """Create the areas in one transaction; undo it for a dry run or on any conflict."""
    outcome = None
    async with _database(config) as db:
        try:
            async with db.write() as conn:
                outcome = await importer.import_entries(
                    conn, entries, levels=levels, actor=cli_actor(), at=now()
                )
                if outcome.problems or dry_run:
                    raise _Rollback
        except _Rollback:
            pass
    return outcome


def cmd_import_areas(config: Config, args: argparse.Namespace) -> int:
    """Import the village roster."""
    units = AdminUnits.load(args.admin_units)
    roster = importer.read_roster(args.file, args.sheet)
    checked = importer.check(roster, units, args.province_code)
    levels = Levels.from_config(config)
    columns = ", ".join(f"{name}=«{title}»" for name, title in roster.columns.items())
    print(f"Read {len(roster.rows)} rows from {roster.source} (header on row "
          f"{roster.header_row}: {columns}).")
    problems = list(checked.problems)
    outcome = None
    if not problems:
        outcome = _run(_import(config, checked.entries, levels, args.dry_run))
        problems = outcome.problems
    if problems:
        for problem in sorted(problems, key=lambda p: p.number):
            print(problem, file=sys.stderr)
        bad = len({p.number for p in problems})
        raise CliError(f"{bad} bad row{'s' if bad != 1 else ''}; nothing was imported")
    assert outcome is not None
    rows = []
    for title, level in (("provinces", levels.province), ("communes", levels.commune),
                         ("villages", levels.village)):
        made, existing = outcome.count(level)
        rows.append((f"{title} ({config.level_name(level)})", made, existing))
    if args.dry_run:
        print("Dry run: nothing was changed. The import would do this:")
        for level, label in outcome.created:
            print(f"  create {config.level_name(level)}: {label}")
        for line in outcome.updated:
            print(f"  update {line}")
    print(table(rows, ("", "would create" if args.dry_run else "created", "existing")))
    if outcome.updated:
        verb = "would update" if args.dry_run else "updated"
        print(f"{len(outcome.updated)} village(s) {verb} (urban flag).")
    if not args.dry_run and (outcome.created or outcome.updated):
        print(f"Imported. Every change is in the audit log (actor {cli_actor().label}).")
    elif not args.dry_run:
        print("Nothing new: every area already exists.")
    return EXIT_OK


async def _household_target(conn, config: Config, args) -> tuple[Area, list[Area], bool]:
    """(the area, its villages, per commune?) from ``--village`` or ``--commune``."""
    village_name = config.level_name(config.report_level)
    if args.village:
        area = await resolve_area(conn, config, args.village)
        if area.level != config.report_level:
            raise CliError(
                f"«{area.name}» is a {config.level_name(area.level)} ({area.level}), not a "
                f"{village_name} ({config.report_level}): use --commune for a commune's list"
            )
        return area, [area], False
    area = await resolve_area(conn, config, args.commune)
    if area.level == config.report_level:
        raise CliError(f"«{area.name}» is a {village_name}: use --village for one village's list")
    villages = await areas.subtree(conn, area, config.report_level)
    if not villages:
        raise CliError(f"no {village_name} under «{area.name}» (#{area.id}): import the areas "
                       "first (python -m bot import-areas FILE)")
    return area, villages, True


def _listing(lines: Sequence[str], limit: int = 20) -> None:
    for line in lines[:limit]:
        print(f"    {line}")
    if len(lines) > limit:
        print(f"    … and {len(lines) - limit} more")


async def _import_households(config: Config, roster, args: argparse.Namespace):
    """Check and write the households in one transaction; undo it for a dry run, or when a row
    is bad and --skip-bad is not given."""
    result: dict = {}
    async with _database(config) as db:
        try:
            async with db.write() as conn:
                area, villages, per_commune = await _household_target(conn, config, args)
                result["label"] = f"{await area_label(conn, area)} (#{area.id})"
                checked = await household_import.plan(
                    conn, roster, target=area, villages=villages, per_commune=per_commune,
                    update_names=args.update_names,
                )
                result["checked"] = checked
                if (checked.problems and not args.skip_bad) or not checked.entries:
                    raise _Rollback
                on = args.as_of or now().astimezone(config.timezone).date()
                result["outcome"] = await household_import.apply(
                    conn, checked, on=on,
                    exit_window_months=config.poverty.recently_exited_months, actor=cli_actor(),
                    at=now(), source=roster.source,
                )
                if args.complete:
                    result["marks"] = await household_import.mark_complete(
                        conn, checked, result["outcome"], target=area, on=on,
                        actor=cli_actor(), at=now())
                if args.dry_run:
                    raise _Rollback
        except _Rollback:
            pass
    return result


def cmd_import_households(config: Config, args: argparse.Namespace) -> int:
    """Import a village's or a commune's household list."""
    roster = household_import.read_households(args.file, args.sheet)
    columns = ", ".join(f"{name}=«{title}»" for name, title in roster.columns.items())
    print(f"Read {len(roster.rows)} rows from {roster.source} (header on row "
          f"{roster.header_row}: {columns}).")
    result = _run(_import_households(config, roster, args))
    checked = result["checked"]
    for warning in checked.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if checked.ignored_columns:
        print("Columns not imported: " + ", ".join(f"«{t}»" for t in checked.ignored_columns)
              + ".")
    bad = len({p.number for p in checked.problems})
    for problem in sorted(checked.problems, key=lambda p: p.number):
        print(problem, file=sys.stderr)
    rows = f"{bad} bad row{'s' if bad != 1 else ''}"
    if bad and not args.skip_bad:
        verb = "would be" if args.dry_run else "was"
        raise CliError(f"{rows}; nothing {verb} imported (fix them, or skip them with "
                       "--skip-bad)")
    if not checked.entries:
        raise CliError("no good rows: nothing was imported")
    outcome = result["outcome"]
    if bad:
        print(f"{rows} skipped (listed above).")
    if args.dry_run:
        print(f"Dry run: nothing was changed. Importing into {result['label']} would do this:")
        for title, lines in (("add", outcome.created), ("update", outcome.updated),
                             ("change status", outcome.status_changes)):
            if lines:
                print(f"  {title} ({len(lines)}):")
                _listing(lines)
    else:
        print(f"Imported into {result['label']}:")
    table_rows = [
        (outcome.village_names[vid], c.rows, c.created, c.updated, c.status_changed,
         c.unchanged, c.not_in_file)
        for vid, c in outcome.by_village.items()
    ]
    print(table(table_rows, (config.level_name(config.report_level).upper(), "ROWS",
                             "WOULD ADD" if args.dry_run else "ADDED", "UPDATED",
                             "STATUS CHANGED", "UNCHANGED", "NOT IN FILE")))
    if outcome.events:
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(outcome.events.items()))
        day = args.as_of or now().astimezone(config.timezone).date()
        print(f"Status changes {'to record' if args.dry_run else 'recorded'} as of {day}: "
              f"{kinds}.")
    if any(c.not_in_file for c in outcome.by_village.values()):
        print("Households on record but not in the file are kept as they are.")
    marks = result.get("marks") or []
    if args.complete:
        _print_marks(marks, args.dry_run)
    if not args.dry_run:
        if outcome.changed or any(m.state == "marked" for m in marks):
            print(f"Every change is in the audit log (actor {cli_actor().label}).")
        else:
            print("Nothing new: every household is already on record as in the file.")
    return EXIT_OK


def _print_marks(marks, dry_run: bool) -> None:
    """What ``--complete`` did (or would do) with each village's household list."""
    print("Household lists (--complete):")
    done = {"marked": "would be marked complete" if dry_run else "marked complete",
            "already": "already marked complete"}
    for mark in marks:
        name, n = mark.village.name, mark.households
        if mark.state == "refused":
            print(f"  {name}: not marked — {'; '.join(mark.reasons)}; mark it in /ho once "
                  "the list is whole, or import the whole list again")
            continue
        line = f"  {name}: {n} household{'' if n == 1 else 's'} — {done[mark.state]}"
        if mark.reported is not None and mark.reported[1] != n:
            line += f" (note: its monthly report of {mark.reported[0]} counts {mark.reported[1]})"
        print(line)
    if any(m.state == "marked" for m in marks):
        when = "once imported" if dry_run else "from now on"
        print(f"A complete list pre-fills its village's monthly report ({when}).")


_FLAG_COLUMNS = (("ethnic_minority", "ETHNIC MIN."), ("no_work_capacity", "NO WORK CAP."),
                 ("has_merit", "MERIT"), ("has_loan", "LOAN"))


async def cmd_households(config: Config, args: argparse.Namespace) -> int:
    """List a village's households."""
    async with _database(config) as db:
        async with db.read() as conn:
            area = await resolve_area(conn, config, args.village)
            if area.level != config.report_level:
                raise CliError(
                    f"«{area.name}» is a {config.level_name(area.level)} ({area.level}); "
                    f"households belong to a {config.level_name(config.report_level)}"
                )
            label = await area_label(conn, area)
            found = await households.list_households(conn, area.id, status=args.status)
            period = now().astimezone(config.timezone).strftime("%Y-%m")
            figures = await households.village_figures(conn, area.id, period)
    which = f" ({args.status})" if args.status else ""
    if not found:
        print(f"No households{which} on record for {label} (#{area.id}). Import the list: "
              f"python -m bot import-households FILE --village '#{area.id}'")
        return EXIT_OK
    print(f"Households{which} of {label} (#{area.id}):")
    rows = [
        (h.code, h.head_name, h.status, h.status_since,
         *("x" if getattr(h, key) else "" for key, _ in _FLAG_COLUMNS),
         h.recently_exited_until or "")
        for h in found
    ]
    print(table(rows, ("CODE", "HEAD OF HOUSEHOLD", "STATUS", "SINCE",
                       *(title for _, title in _FLAG_COLUMNS), "RECENTLY EXITED UNTIL")))
    f = figures
    print(f"{f['total']} households: {f['poor']} poor, {f['near_poor']} near-poor, "
          f"{f['total'] - f['poor'] - f['near_poor']} average or other; {f['em_poor']} poor "
          f"of an ethnic minority; {f['loans']} poor or near-poor with a loan. In {period}: "
          f"{f['exited']} exited, {f['newly_poor']} newly poor, {f['fallen_back']} fell back.")
    return EXIT_OK


async def cmd_invite(config: Config, args: argparse.Namespace) -> int:
    """Create one-time invite codes."""
    if args.name and args.count > 1:
        raise CliError("--name names one person: use it with --count 1", EXIT_USAGE)
    days = args.days if args.days is not None else config.invite_ttl_days
    actor, at = cli_actor(), now()
    expires = at + timedelta(days=days)
    async with _database(config) as db:
        async with db.write() as conn:
            area = await resolve_area(conn, config, args.area)
            if args.role == "village_head" and area.level != config.report_level:
                raise CliError(
                    f"a village head's area must be a {config.level_name(config.report_level)}"
                    f" ({config.report_level}); «{area.name}» is a "
                    f"{config.level_name(area.level)} ({area.level})"
                )
            label = await area_label(conn, area)
            codes = []
            for _ in range(args.count):
                code = new_code()
                while await invites.get_invite(conn, code) is not None:
                    code = new_code()
                await invites.create_invite(
                    conn, code=code, role=args.role, area_id=area.id,
                    full_name=args.name or "", expires_at=expires, actor=actor, at=at,
                )
                codes.append(code)
    username = config.telegram.username
    who = f" for {args.name}" if args.name else ""
    print(f"{len(codes)} invite(s){who}: {args.role} of {label} (#{area.id})")
    print(f"Valid until {local(config, expires)} ({config.timezone.key}); each code works once.")
    if not username:
        print("No Telegram link: set GIAMNGHEO_TELEGRAM_USERNAME (or telegram.username in the "
              "config) to the bot's username to print one.")
    bot = f"bot @{username}" if username else "bot"
    for code in codes:
        shown = show_code(code)
        print()
        print(f"  Code:    {shown}")
        if username:
            print(f"  Link:    https://t.me/{username}?start={code}")
        print(f"  Give the person: Gửi /start {shown} cho {bot} (hoặc chỉ cần gõ mã {shown}).")
    return EXIT_OK


def _level(config: Config, text: str) -> str:
    for level in config.levels:
        if fold(text) in (fold(level.key), fold(level.name)):
            return level.key
    names = ", ".join(f"{lv.key} ({lv.name})" for lv in config.levels)
    raise CliError(f"unknown level «{text}»; levels: {names}", EXIT_USAGE)


async def cmd_areas(config: Config, args: argparse.Namespace) -> int:
    """Show the area tree."""
    level = _level(config, args.level) if args.level else None
    async with _database(config) as db:
        async with db.read() as conn:
            root = await resolve_area(conn, config, args.under) if args.under else None
            tree = await areas.subtree(conn, root)
            above = await areas.ancestors(conn, root) if root else []
    if not tree:
        print("No areas yet. Import the roster: python -m bot import-areas FILE")
        return EXIT_OK
    names = {a.id: a.name for a in [*above, *tree]}
    top = min(a.path.count("/") for a in tree)
    shown = 0
    for a in tree:
        if level is not None and a.level != level:
            continue
        details = [config.level_name(a.level)]
        if a.code:
            details.append(f"code {a.code}")
        details.append("urban" if a.urban else "rural")
        line = f"#{a.id}  {a.name}  [{', '.join(details)}]"
        if level is None:
            print("  " * (a.path.count("/") - top) + line)
        else:
            ids = [int(i) for i in a.path.strip("/").split("/")[:-1]]
            where = " › ".join(names[i] for i in ids if i in names)
            print(line + (f"  in {where}" if where else ""))
        shown += 1
    if level is not None:
        print(f"{shown} area(s) of level {config.level_name(level)}.")
    return EXIT_OK


async def cmd_people(config: Config, args: argparse.Namespace) -> int:
    """List people, their roles and identities."""
    async with _database(config) as db:
        async with db.read() as conn:
            root = await resolve_area(conn, config, args.under) if args.under else None
            rows = await people.list_people(conn, root)
    if not rows:
        print("Nobody yet. Create an invite: python -m bot invite --role ... --area ...")
        return EXIT_OK
    current = None
    for row in rows:
        if row["id"] != current:
            current = row["id"]
            print(f"#{row['id']}  {row['full_name']}")
            print(f"    identities: {row['identities'] or '(none yet)'}")
        level = config.level_name(row["level"])
        print(f"    {row['role']} of {row['name']} ({level})")
    return EXIT_OK


async def cmd_invites(config: Config, args: argparse.Namespace) -> int:
    """List invite codes and their state."""
    async with _database(config) as db:
        async with db.read() as conn:
            rows = await invites.list_invites(conn)
    if not rows:
        print("No invites yet.")
        return EXIT_OK
    at = now()
    out = []
    for row in rows:
        if row["used_at"]:
            state = "used"
        elif datetime.fromisoformat(row["expires_at"]) <= at:
            state = "expired"
        else:
            state = "unused"
        out.append((show_code(row["code"]), state, row["role"], row["area"], row["full_name"],
                    local(config, row["expires_at"]), local(config, row["used_at"])))
    print(table(out, ("CODE", "STATE", "ROLE", "AREA", "NAME", "EXPIRES", "USED")))
    return EXIT_OK


def _period(text: str) -> str:
    from reports.periods import parse_month

    month = parse_month(text, date.today()) if re.search(r"\d{4}", text) else None
    if month is None:
        raise argparse.ArgumentTypeError(f"not a month: {text!r} (write YYYY-MM, e.g. 2026-10)")
    return month.key


def _figures(data: dict) -> str:
    keys = [k for k in reports.MONTHLY_COLUMNS if k in data] + sorted(
        k for k in data if k not in reports.MONTHLY_COLUMNS
    )
    return ", ".join(f"{k}={data[k]!r}" if isinstance(data[k], str) else f"{k}={data[k]}"
                     for k in keys)


async def cmd_reports(config: Config, args: argparse.Namespace) -> int:
    """Show a village's monthly reports with every version."""
    async with _database(config) as db:
        async with db.read() as conn:
            area = await resolve_area(conn, config, args.village)
            label = await area_label(conn, area)
            versions = await reports.report_versions(
                conn, area.id, reports.MONTHLY_FORM, args.period
            )
    when = f" for {args.period}" if args.period else ""
    if not versions:
        print(f"No monthly reports{when} for {label} (#{area.id}).")
        return EXIT_OK
    print(f"Monthly reports{when} of {label} (#{area.id}), newest first:")
    period = None
    for v in versions:
        if v.period != period:
            period = v.period
            print(f"{period}")
        who = f"{v.submitted_by_name} (#{v.submitted_by})" if v.submitted_by else "operator"
        print(f"  v{v.version}  {local(config, v.submitted_at)}  by {who} via {v.submitted_via}")
        print(f"      {_figures(v.data)}")
    return EXIT_OK


async def cmd_audit(config: Config, args: argparse.Namespace) -> int:
    """Show the audit log, newest first."""
    if args.id is not None and args.entity is None:
        raise CliError("--id needs --entity (e.g. --entity area --id 12)", EXIT_USAGE)
    async with _database(config) as db:
        async with db.read() as conn:
            rows = await audit.entries(conn, args.entity, args.id, limit=args.limit + 1)
    if not rows:
        print("No audit entries.")
        return EXIT_OK
    more, rows = len(rows) > args.limit, rows[:args.limit]

    def dump(value: object) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)

    for row in rows:
        print(f"#{row['id']}  {local(config, row['at'])}  {row['actor']}  {row['action']} "
              f"{row['entity']} {row['entity_id']}")
        if row["before"] is not None:
            print(f"    before: {dump(row['before'])}")
        if row["after"] is not None:
            print(f"    after:  {dump(row['after'])}")
    if more:
        print(f"… older and more entries: use --limit {args.limit * 2} or more")
    return EXIT_OK


async def cmd_calendar(config: Config, args: argparse.Namespace) -> int:
    """Show the year's reminders, late lists, digests and notices (checks the overrides)."""
    from reports.calendar import calendars, events_between
    from scheduler.planner import governing, override_paths, report_name

    year = args.year or datetime.now(config.timezone).year
    async with _database(config) as db:
        async with db.read() as conn:
            try:
                paths = await override_paths(conn, config)
            except ConfigError as exc:
                raise CliError(str(exc)) from exc
            index = 0
            if args.area:
                area = await resolve_area(conn, config, args.area)
                index = governing(area, paths)
                print(f"Calendar of {await area_label(conn, area)}"
                      + (f" ({config.calendar.overrides[index - 1].setting})" if index else
                         " (the default calendar)"))
    tz = config.timezone
    start = datetime(year, 1, 1, tzinfo=tz) - timedelta(seconds=1)
    events = [e for e in events_between(config.calendar, tz, start,
                                        datetime(year, 12, 31, 23, 59, tzinfo=tz))
              if e.calendar == index]
    names = {"remind": "reminder to those who have not filed",
             "escalate": "late list to the officers", "digest": "digest to the officers above",
             "notice": "notice to everyone"}
    rows = []
    for e in events:
        what = (e.form.replace("_", " ") if e.kind == "notice"
                else f"{report_name(e.form, e.period)} ({e.level}, due {e.due:%d/%m/%Y})")
        rows.append((f"{e.at:%Y-%m-%d %H:%M}", names[e.kind], what))
    print(table(rows, ("WHEN", "WHAT", "ABOUT")))
    print(f"{len(rows)} events in {year}; {len(calendars(config.calendar)) - 1} area overrides; "
          f"quiet hours {config.calendar.quiet_start:%H:%M}–{config.calendar.quiet_end:%H:%M}")
    return EXIT_OK


async def cmd_outbox(config: Config, args: argparse.Namespace) -> int:
    """Show recent campaigns and their delivery, or one campaign's messages."""
    async with _database(config) as db:
        async with db.read() as conn:
            if args.campaign is None:
                found = await outbox.recent_campaigns(conn, args.limit + 1)
                more = len(found) - args.limit
                rows = []
                for c in found[:args.limit]:
                    counts = await outbox.campaign_counts(conn, c.id)
                    asker = await people.get_person(conn, c.requested_by) if c.requested_by \
                        else None
                    rows.append((c.id, local(config, c.created_at), c.kind, c.title[:48],
                                 asker.full_name if asker else "-",
                                 c.total, counts["sent"], counts["pending"] + counts["sending"],
                                 counts["skipped"], counts["failed"] + counts["unreachable"],
                                 local(config, c.done_at)))
                if not rows:
                    print("The outbox is empty.")
                    return EXIT_OK
                print(table(rows, ("#", "PLANNED", "KIND", "TITLE", "ASKED BY", "TOTAL", "SENT",
                                   "WAITING", "SKIPPED", "FAILED", "DONE")))
                if more > 0:
                    print(f"… {more} more campaign(s): use --limit {args.limit + 1} or more")
                return EXIT_OK
            campaign = (await outbox.get_campaign(conn, int(args.campaign))
                        if args.campaign.isdigit()
                        else await outbox.campaign_by_key(conn, args.campaign))
            if campaign is None:
                raise CliError(f"no campaign {args.campaign!r} (see '{PROG} outbox')")
            messages = list(await outbox.outbox_rows(conn, campaign.id))
            asker = (await people.get_person(conn, campaign.requested_by)
                     if campaign.requested_by else None)
    by = f", asked by {asker.full_name} (#{asker.id})" if asker else ""
    print(f"Campaign #{campaign.id} {campaign.key} ({campaign.kind}), planned "
          f"{local(config, campaign.created_at)}{by}, {campaign.total} messages:")
    print(table([(r["id"], r["full_name"], r["state"], r["attempts"], r["channel"],
                  local(config, r["sent_at"]), (r["last_error"] or "")[:60])
                 for r in messages[:args.limit]],
                ("#", "TO", "STATE", "TRIES", "CHANNEL", "SENT", "LAST ERROR")))
    if len(messages) > args.limit:
        print(f"… {len(messages) - args.limit} more message(s): use --limit {len(messages)}")
    return EXIT_OK


# --- health, backup, restore -------------------------------------------------------------------

def _ago(seconds: float) -> str:
    """``4 s``, ``3 min``, ``2 h 5 min``, ``3 days``."""
    seconds = max(0, int(seconds))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    if seconds < 172800:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} days"


def _tries(n: int) -> str:
    return f"{n} try" if n == 1 else f"{n} tries"


def _loop_line(loop: dict, now: float) -> tuple[bool, str]:
    """Whether the loop is well, and one line saying how it is."""
    label = loop.get("label") or loop.get("name")
    last_ok = loop.get("last_ok")
    done = f"last succeeded {_ago(now - last_ok)} ago" if last_ok else "no success yet"
    if loop.get("stopped_at"):
        return True, f"  stopped   {label}: {done}"
    if loop.get("failing_since"):
        return False, (f"  FAILING   {label}: for {_ago(now - loop['failing_since'])} "
                       f"({_tries(loop.get('failures', 0))}): {loop.get('last_error')}; {done}")
    every = loop.get("every")
    if every and last_ok and now - last_ok > max(10 * every, 60):
        return False, f"  STUCK     {label}: no round for {_ago(now - last_ok)}"
    told = ""
    if loop.get("last_error"):
        told = (f"; last error {_ago(now - loop['last_error_at'])} ago: "
                f"{loop['last_error']}")
    return True, f"  ok        {label}: {done}{told}"


def cmd_health(config: Config, args: argparse.Namespace) -> int:
    """Tell whether the bot runs on the database and how its loops are doing."""
    now = time.time()
    holder = instance.holder(config.db_path)
    report = health.read_report(config.db_path)
    if holder is None:
        print(f"Bot: not running on {config.db_path}.")
        if report and report.get("written_at"):
            print(f"Its last health report is from {_ago(now - report['written_at'])} ago"
                  + (" (it stopped normally)." if report.get("stopped") else
                     " (it did not stop normally)."))
        return EXIT_FAILED
    channels = " and ".join(c.capitalize() for c in (report or {}).get("channels", []))
    print(f"Bot: running ({holder.describe()}, {_ago(now - holder.since)})"
          + (f" on {channels}" if channels else "") + ".")
    well = True
    if report is None or report.get("pid") != holder.pid:
        print("No health report from it yet.")
        well = False
    else:
        age = now - report["written_at"]
        every = report.get("heartbeat_every", 2.0)
        if age > 3 * every + 5:
            well = False
            print(f"Its health report is {_ago(age)} old: the bot is not answering (its "
                  "event loop may be stuck, or the disk full).")
        else:
            print(f"Health, {_ago(age)} ago:")
        for loop in sorted(report.get("loops", []), key=lambda x: x.get("name", "")):
            ok, line = _loop_line(loop, now)
            well = well and ok
            print(line)
    waiting = _backlog(config)
    if waiting is not None:
        inbox = waiting["inbox"] or {}
        parts = [f"{v['waiting']} in the {c.capitalize()} inbox (oldest "
                 f"{local(config, v['oldest'])})" for c, v in sorted(inbox.items())]
        print("Waiting: " + ("; ".join(parts) if parts else "no message in the inbox")
              + f"; {waiting['outbox_due']} outbox message(s) due,"
              f" {waiting['outbox_sending']} being sent.")
    failing = sum(1 for loop in (report or {}).get("loops", []) if loop.get("failing_since"))
    print("All is well." if well else
          f"Not well: {failing} loop(s) failing." if failing else "Not well.")
    return EXIT_OK if well else EXIT_FAILED


def _backlog(config: Config) -> dict | None:
    try:
        conn = sqlite3.connect(f"{Path(config.db_path).resolve().as_uri()}?mode=ro", uri=True,
                               timeout=5)
    except sqlite3.Error:
        return None
    try:
        return health.backlog(conn, now().isoformat(timespec="seconds"))
    except sqlite3.Error as exc:
        print(f"(the database could not be read: {exc})")
        return None
    finally:
        conn.close()


def _newest_migration() -> int:
    return max(number for number, _, _ in migrations.MIGRATIONS)


def cmd_backup(config: Config, args: argparse.Namespace) -> int:
    """Copy the database, consistently, while the bot runs."""
    try:
        made = backup.backup(config.db_path, args.file, overwrite=args.force)
    except backup.BackupError as exc:
        raise CliError(str(exc)) from None
    print(f"Backed up {config.db_path} to {made.path}: {len(made.counts)} tables, "
          f"{made.rows} rows, {made.size / 1e6:.1f} MB, schema version {made.schema_version}, "
          f"checked, in {made.seconds:.1f} s.")
    return EXIT_OK


def cmd_restore(config: Config, args: argparse.Namespace) -> int:
    """Replace the database by a backup (the bot must be stopped)."""
    try:
        made, kept = backup.restore(args.file, config.db_path,
                                    newest_known=_newest_migration())
    except backup.BackupError as exc:
        raise CliError(str(exc)) from None
    print(f"Restored {args.file} into {config.db_path}: {len(made.counts)} tables, "
          f"{made.rows} rows, schema version {made.schema_version}, checked.")
    if kept is not None:
        print(f"The database as it was before is kept in {kept}.")
    if made.schema_version < _newest_migration():
        print("The bot brings its schema up to date at its next start "
              f"(or run '{PROG} migrate').")
    return EXIT_OK


# --- the parser --------------------------------------------------------------------------------

def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date: {text!r} (write YYYY-MM-DD, e.g. 2026-11-05)") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _count(text: str) -> int:
    value = _positive(text)
    if value > 500:
        raise argparse.ArgumentTypeError("at most 500 codes at a time")
    return value


def _add_modes(parser: argparse.ArgumentParser) -> None:
    """``--console``, ``--telegram``, ``--zalo``: which channel the bot runs on."""
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--console", dest="mode", action="store_const", const="console",
                      default=argparse.SUPPRESS,
                      help="chat in this terminal even if a messenger token is set")
    mode.add_argument("--telegram", dest="mode", action="store_const", const="telegram",
                      default=argparse.SUPPRESS,
                      help="connect to Telegram only (fails if GIAMNGHEO_TELEGRAM_TOKEN is not "
                      "set)")
    mode.add_argument("--zalo", dest="mode", action="store_const", const="zalo",
                      default=argparse.SUPPRESS,
                      help="connect to Zalo only (fails if GIAMNGHEO_ZALO_TOKEN is not set)")


def build_parser() -> argparse.ArgumentParser:
    config_help = (
        "the config file (default: $GIAMNGHEO_CONFIG, else config.toml beside the code); "
        "$GIAMNGHEO_DB overrides its database path"
    )
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="giamngheo-bot: monthly poverty-reduction reports from village heads, "
        "over Telegram, Zalo or the console. Without a command: run the bot.",
        epilog="Exit codes: 0 success, 1 the command failed, 2 wrong usage. "
        "Run '%(prog)s COMMAND --help' for a command's options."
    )
    parser.add_argument("--config", metavar="PATH", help=config_help)
    _add_modes(parser)  # `python -m bot --zalo` is `python -m bot run --zalo`
    parser.set_defaults(command="run", handler=cmd_run, mode="auto")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help=config_help)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    parser.commands = sub.choices  # the command parsers by name (see subcommands)

    def add(name: str, handler: Callable, help: str, description: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=description, parents=[common])
        p.set_defaults(command=name, handler=handler)
        return p

    p = add("run", cmd_run, "run the bot (the default command)",
            "Run the bot: on Telegram when GIAMNGHEO_TELEGRAM_TOKEN is set, on Zalo when "
            "GIAMNGHEO_ZALO_TOKEN is set (both at once when both are), otherwise in the "
            "console.")
    _add_modes(p)

    p = add("console", cmd_console, "chat with the bot in this terminal",
            "Chat with the bot in this terminal, as a given person, on the real or the demo "
            "database.")
    p.add_argument("--as", dest="person", metavar="PERSON",
                   help="who to act as: a person id, or a role keyword such as truong-thon")
    p.add_argument("--demo", action="store_true",
                   help="use the demo database (demo.path in the config)")
    p.add_argument("--reset-demo", action="store_true",
                   help="rebuild the demo database before starting (implies --demo)")
    p.add_argument("--size", choices=("small", "large"),
                   help="the demo's size: small (default; 12 villages) or large (117 villages "
                   "with household lists, kept in a file of its own; implies --demo)")
    p.add_argument("--script", nargs="?", const="-", metavar="FILE",
                   help="read the messages to send from FILE (or stdin when no FILE is given) "
                   "instead of typing them, then exit")

    add("migrate", cmd_migrate, "create or update the database schema",
        "Open the database (creating it if needed), apply pending migrations and list them.")

    p = add("import-areas", cmd_import_areas,
            "import the village roster (CSV or XLSX) into the area tree",
            "Import a roster with columns province / commune / village (Vietnamese or English "
            "titles, e.g. Tỉnh, Xã/Phường, Thôn/Bản/Tổ dân phố; optional Mã xã and Thành thị). "
            "Communes are matched to the official 2025 list by code, else by name without "
            "diacritics. Missing areas are created, existing ones reused; if any row is bad, "
            "every bad row is listed and nothing is imported.")
    p.add_argument("file", metavar="FILE", help="the roster: .csv (',' or ';') or .xlsx")
    p.add_argument("--sheet", metavar="NAME",
                   help="the Excel sheet to read (default: the first with a roster header)")
    p.add_argument("--province-code", metavar="CODE",
                   help="official province code for every row (when the roster has no "
                   "province column), e.g. 12 for Lai Châu")
    p.add_argument("--dry-run", action="store_true",
                   help="check the roster and show what would be created; change nothing")
    p.add_argument("--admin-units", metavar="PATH", default=str(ADMIN_UNITS),
                   help="the official list of provinces and communes (default: %(default)s)")

    p = add("import-households", cmd_import_households,
            "import a village's or a commune's household list (CSV or XLSX)",
            "Import a household list with columns household code (Mã hộ), head's name (Họ tên "
            "chủ hộ), status (Phân loại: nghèo, cận nghèo, trung bình, khác) and optionally "
            "village (Thôn: required with --commune), ethnic minority (Dân tộc thiểu số), no "
            "working capacity, a person with revolutionary merit, a Social Policy Bank loan "
            "(x/có/1 for yes). Titles may be Vietnamese or English, diacritics optional. Other "
            "columns are never stored (ID-card numbers included). New households are added, "
            "changed ones updated (a status change is recorded as an event); if any row is "
            "bad, every bad row is listed and nothing is imported unless --skip-bad.")
    p.add_argument("file", metavar="FILE", help="the list: .csv (',' or ';') or .xlsx")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--village", metavar="AREA",
                        help="the village every row belongs to: #id, a name (diacritics "
                        "optional) or a path like 'Mường Tè/Nà Khan'")
    target.add_argument("--commune", metavar="AREA",
                        help="the commune whose villages the rows name in their village column")
    p.add_argument("--sheet", metavar="NAME",
                   help="the Excel sheet to read (default: the first with a household header)")
    p.add_argument("--dry-run", action="store_true",
                   help="check the list and show what would change; change nothing")
    p.add_argument("--skip-bad", action="store_true",
                   help="import the good rows and skip the bad ones (still listed)")
    p.add_argument("--update-names", action="store_true",
                   help="accept a new head's name for a code already on record (the head of "
                   "the household changed); without it such a row is bad")
    p.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD",
                   help="the date the list is valid on: status date of new households and "
                   "effective date of status changes (default: today)")
    p.add_argument("--complete", action="store_true",
                   help="the file is the whole household list of each village it names: mark "
                   "those lists complete (audited), so they pre-fill the monthly report; a "
                   "village with households on record that the file lacks, or with a bad row "
                   "skipped, is left as it was and named. With --dry-run: says what would be "
                   "marked")

    p = add("households", cmd_households, "list a village's households",
            "List a village's households: code, head's name, status and since when, the "
            "ethnic-minority, no-working-capacity, merit and loan flags, and the village's "
            "figures computed from the list.")
    p.add_argument("village", metavar="VILLAGE",
                   help="the village: #id, a name (diacritics optional) or a path")
    p.add_argument("--status", choices=households.STATUSES,
                   help="only households of this status")

    p = add("invite", cmd_invite, "create one-time invite codes",
            "Create one-time invite codes that give a role over an area. The person sends "
            "/start CODE to the bot (or opens the t.me link).")
    p.add_argument("--role", required=True, choices=ROLES,
                   help="the role the code gives: village_head (of a village), officer or admin")
    p.add_argument("--area", required=True, metavar="AREA",
                   help="the area: #id, an official code, a name (diacritics optional) or a "
                   "path like 'Mường Tè/Nà Khan'")
    p.add_argument("--name", metavar="FULL_NAME",
                   help="the person's full name (otherwise their messenger name is used)")
    p.add_argument("--days", type=_positive, metavar="N",
                   help="days the codes stay valid (default: invites.ttl_days in the config)")
    p.add_argument("--count", type=_count, default=1, metavar="N",
                   help="how many codes to create (default: 1)")

    p = add("areas", cmd_areas, "show the area tree",
            "Show the area tree, indented, with ids, levels, official codes and urban flags.")
    p.add_argument("--under", metavar="AREA", help="show only this area and what lies under it")
    p.add_argument("--level", metavar="LEVEL",
                   help="show only areas of this level (key or name, e.g. village or Thôn)")

    p = add("people", cmd_people, "list people with their roles and identities",
            "List people with their roles, areas and messenger identities.")
    p.add_argument("--under", metavar="AREA",
                   help="only people with a role in this area or under it")

    add("invites", cmd_invites, "list invite codes and their state",
        "List invite codes, newest first, with their state: unused, used or expired.")

    p = add("reports", cmd_reports, "show a village's monthly reports, every version",
            "Show a village's monthly reports, newest first, with every version: who sent it, "
            "when, through which channel, and the figures.")
    p.add_argument("village", metavar="VILLAGE",
                   help="the village: #id, a name (diacritics optional) or a path")
    p.add_argument("--period", type=_period, metavar="YYYY-MM", help="only this month")

    p = add("calendar", cmd_calendar, "show the reporting calendar of a year",
            "Show every reminder, late list, digest and notice the calendar plans in a year, "
            "with its time (quiet hours applied). Checks that every [[calendar.overrides]] "
            "names a known area.")
    p.add_argument("--year", type=_positive, metavar="YYYY", help="the year (default: this)")
    p.add_argument("--area", metavar="AREA",
                   help="the calendar that applies to this area (default: the default one)")

    p = add("outbox", cmd_outbox, "show what the bot sent on its own, and what waits",
            "Show recent campaigns (reminders, notices, announcements) with their delivery: "
            "sent, waiting, skipped (the report came first), failed or unreachable. With "
            "--campaign, that campaign's messages one by one.")
    p.add_argument("--campaign", metavar="ID_OR_KEY", help="one campaign: its # or its key")
    p.add_argument("--limit", type=_positive, default=30, metavar="N",
                   help="show at most N rows (default: %(default)s)")

    add("health", cmd_health, "tell whether the bot runs and how its loops are doing",
        "Tell whether a bot runs on the database (its pid and since when) and, from the "
        "health report it writes every few seconds, how each of its loops is doing: the "
        "outbox's delivery, the calendar's planning, the background checkpoints, the "
        "processing of messages; when each last succeeded and its last error; and what "
        "waits in the inbox and the outbox. Exit status 0 when all is well, 1 otherwise "
        "(not running, a loop failing or stuck).")

    p = add("backup", cmd_backup, "copy the database to FILE, also while the bot runs",
            "Copy the database to FILE with SQLite's online backup: the copy is the database "
            "as it was at one moment, also while the bot writes; it is checked (integrity "
            "check) and put in place only when complete. FILE is one self-contained SQLite "
            "file.")
    p.add_argument("file", metavar="FILE", help="the backup file to write")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")

    p = add("restore", cmd_restore, "replace the database by a backup (bot stopped)",
            "Replace the database by the backup FILE, after checking it (a sound SQLite file "
            "of this bot, not newer than this version knows). The database as it was is kept "
            "beside it (<database>.before-restore-<time>). Refused while a bot runs on the "
            "database.")
    p.add_argument("file", metavar="FILE", help="the backup to restore")

    p = add("audit", cmd_audit, "show the audit log",
            "Show the audit log, newest first: who changed what, when, before and after.")
    p.add_argument("--entity", metavar="E",
                   help="only entries about this kind of thing: area, person, identity, role, "
                   "invite, report")
    p.add_argument("--id", metavar="X", help="only entries about this id (needs --entity)")
    p.add_argument("--limit", type=_positive, default=50, metavar="N",
                   help="show at most N entries (default: %(default)s)")
    return parser


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The command parsers by name (used by the help tests)."""
    return dict(getattr(parser, "commands", {}))


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the command, return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed by argparse
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    try:
        config = load_config(args.config)
        result = args.handler(config, args)
        if asyncio.iscoroutine(result):
            result = _run(result)
        return int(result or 0)
    except (CliError, ConfigError, RosterError) as exc:
        for line in str(exc).splitlines() or [""]:  # several wrong settings: each its line
            print(f"error: {line}", file=sys.stderr)
        return getattr(exc, "code", EXIT_FAILED)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_FAILED

