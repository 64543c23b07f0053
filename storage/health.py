"""How the bot's background work is doing: each loop's last success and last error.

Every loop that must not stop — the dispatcher, the planner's ticks, the background
checkpoints, the processing of Zalo and Telegram messages, the removal of expired media —
reports here after each round (:meth:`LoopHealth.ok`) or failure (:meth:`LoopHealth.failed`,
which logs at once and gives the back-off before the next try). The bot process writes the
whole picture to a file next to the database every few seconds (:func:`write_report`), which
``python -m bot health`` reads from another process (:func:`read_report`), so the check works
while the database itself is locked or full.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

# SQLite's primary result codes of faults that pass by themselves (sqlite.org/rescode.html):
# another connection's lock (BUSY, LOCKED), the disk failing a read or a write (IOERR) or full
# (FULL), a lock protocol race in WAL mode (PROTOCOL). Not among them: a malformed database
# (CORRUPT), a read-only file, a missing table — those need a person (or are bugs).
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL, SQLITE_PROTOCOL = 5, 6, 10, 13, 15
TRANSIENT_CODES = frozenset({SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL,
                             SQLITE_PROTOCOL})
_TRANSIENT_WORDS = ("database is locked", "database table is locked", "database is busy",
                    "disk i/o error", "database or disk is full")

BACKOFF_FIRST = 0.5  # seconds before the first try again
BACKOFF_MAX = 10.0  # at most this long between tries
STILL_FAILING_EVERY = 60.0  # seconds between two log lines about the same run of failures
REPORT_SUFFIX = ".health.json"


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` is a database fault that passes by itself, so that the work is tried
    again rather than given up: «database is locked» (another process's transaction held
    longer than ``busy_timeout``), a disk I/O error, «database or disk is full»."""
    if not isinstance(error, sqlite3.OperationalError):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int):
        return (code & 0xFF) in TRANSIENT_CODES  # extended codes keep the primary in the low byte
    return any(words in str(error).lower() for words in _TRANSIENT_WORDS)


def describe(error: BaseException) -> str:
    """One line: the error's type and message."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


@dataclass
class LoopHealth:
    """One loop's state. ``every``: seconds between its rounds when it runs (None for work
    that runs when a message arrives); ``label``: what it does, in words."""

    name: str
    label: str
    every: float | None = None
    logger: logging.Logger = field(default=log, repr=False)
    started_at: float = field(default_factory=time.time)
    last_ok: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    failing_since: float | None = None
    failures: int = 0  # in a row
    total_failures: int = 0
    stopped_at: float | None = None
    _told_at: float = field(default=0.0, repr=False)

    @property
    def failing(self) -> bool:
        return self.failing_since is not None

    def ok(self) -> None:
        """A round went well."""
        now = time.time()
        if self.failing_since is not None:
            self.logger.warning("%s works again after %.0f s and %d failed tries",
                                self.label, now - self.failing_since, self.failures)
        self.last_ok = now
        self.failing_since = None
        self.failures = 0

    def failed(self, error: BaseException, *, first: float = BACKOFF_FIRST,
               longest: float = BACKOFF_MAX) -> float:
        """A round failed: recorded, logged (at once for the first failure of a run, then at
        most every ``STILL_FAILING_EVERY`` seconds; with its traceback when it is not a
        passing database fault, which is a bug); returns the seconds to wait before trying
        again (doubling from ``first`` up to ``longest``)."""
        now = time.time()
        self.failures += 1
        self.total_failures += 1
        self.last_error = describe(error)
        self.last_error_at = now
        passing = is_transient(error)
        if self.failing_since is None:
            self.failing_since = now
            self._told_at = now
            if passing:
                self.logger.warning("%s failed: %s (a passing database fault: trying again)",
                                    self.label, self.last_error)
            else:
                self.logger.error("%s failed (trying again)", self.label,
                                  exc_info=(type(error), error, error.__traceback__))
        elif now - self._told_at >= STILL_FAILING_EVERY:
            self._told_at = now
            self.logger.warning("%s still failing after %.0f s and %d tries: %s", self.label,
                                now - self.failing_since, self.failures, self.last_error)
        return min(longest, first * 2 ** (self.failures - 1))

    def stopped(self) -> None:
        self.stopped_at = time.time()

    def as_dict(self) -> dict:
        data = asdict(self)
        for private in ("logger", "_told_at"):
            data.pop(private, None)
        return data


class Health:
    """The loops of one process, by name."""

    def __init__(self):
        self.loops: dict[str, LoopHealth] = {}
        self.started_at = time.time()

    def loop(self, name: str, label: str = "", every: float | None = None,
             logger: logging.Logger | None = None) -> LoopHealth:
        """The loop called ``name``, registered on first use."""
        found = self.loops.get(name)
        if found is None:
            found = self.loops[name] = LoopHealth(name, label or name, every, logger or log)
        return found

    @property
    def failing(self) -> list[LoopHealth]:
        return [h for h in self.loops.values() if h.failing]

    def report(self, **extra) -> dict:
        return {"pid": os.getpid(), "started_at": self.started_at, "written_at": time.time(),
                **extra, "loops": [h.as_dict() for h in self.loops.values()]}


def report_path(db_path: str | Path) -> Path:
    """Where the bot process writes its health: next to the database."""
    return Path(f"{db_path}{REPORT_SUFFIX}")


def write_report(db_path: str | Path, report: dict) -> None:
    """Write a health report (:meth:`Health.report`) next to the database (whole or not at
    all)."""
    path = report_path(db_path)
    temporary = path.with_name(path.name + f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(temporary, path)


def read_report(db_path: str | Path) -> dict | None:
    """The last health report written next to the database, or None."""
    try:
        return json.loads(report_path(db_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def backlog(conn: sqlite3.Connection, now_iso: str) -> dict:
    """What waits, read from the database: messages stored and not processed, by channel
    (with the oldest one's time), and outbox messages due now, held or in flight."""
    inbox = {row[0]: {"waiting": row[1], "oldest": row[2]} for row in conn.execute(
        "SELECT channel, count(*), min(received_at) FROM inbox GROUP BY channel")}
    due, sending = conn.execute(
        "SELECT sum(state = 'pending' AND not_before <= ?), sum(state = 'sending')"
        " FROM outbox WHERE state IN ('pending', 'sending')", (now_iso,)).fetchone()
    return {"inbox": inbox, "outbox_due": int(due or 0), "outbox_sending": int(sending or 0)}
