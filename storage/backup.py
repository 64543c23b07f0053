"""Backups of the database, and restoring one (``python -m bot backup`` / ``restore``).

A backup is SQLite's online backup (``sqlite3.Connection.backup``, the C API's
``sqlite3_backup_*``) copied in one step: that step reads inside one read transaction, so the
copy is the database as it was at one moment, whatever the bot writes meanwhile (in WAL mode a
reader never stops the writers). The copy is written beside the target and put in place only
once it is complete and checked (``PRAGMA integrity_check``), so a stopped backup never leaves
a file that looks like one. It is a single self-contained file (rollback journal, no ``-wal``).

Restoring copies a backup into the database the same way, after checking the backup and
keeping the database as it was in ``<database>.before-restore-<time>``; it is refused while
a bot runs on the database (:mod:`storage.instance`), and holds the bot's lock meanwhile so
that none starts.

PostgreSQL (issue 13): ``pg_dump``/``pg_restore`` (or the server's base backups) take this
place; nothing here is used by the bot itself.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from storage import instance

BUSY_TIMEOUT_S = 30.0  # a backup waits this long for a lock (the backup of a busy database)


class BackupError(Exception):
    """A backup or a restore that cannot be made; the message says why."""


@dataclass(frozen=True)
class Copy:
    """What was copied: every table's row count, and how long it took."""

    path: Path
    counts: dict[str, int]
    size: int
    seconds: float
    schema_version: int

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def table_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Every table's number of rows, by name."""
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY name")]
    return {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            for name in names}


def schema_version(conn: sqlite3.Connection) -> int:
    try:
        row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
    except sqlite3.DatabaseError:
        return -1
    return int(row[0] or 0)


def _check(conn: sqlite3.Connection, what: str) -> None:
    try:
        found = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{what} is not a SQLite database ({exc})") from None
    if found != ["ok"]:
        raise BackupError(f"{what} is damaged: {'; '.join(found[:3])}")


def _connect(path: Path | str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
    conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    return conn


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup(db_path: str | os.PathLike, target: str | os.PathLike, *,
           overwrite: bool = False) -> Copy:
    """Copy the database at ``db_path`` (it may be in use) to ``target``."""
    source, target = Path(db_path), Path(target)
    if not source.exists():
        raise BackupError(f"there is no database at {source}")
    if target.exists() and target.resolve() == source.resolve():
        raise BackupError("the backup cannot be the database itself")
    if target.exists() and not overwrite:
        raise BackupError(f"{target} exists already (--force to replace it)")
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    part.unlink(missing_ok=True)
    started = time.monotonic()
    src = _connect(source)
    try:
        dst = sqlite3.connect(part, isolation_level=None)
        try:
            src.backup(dst)  # one step: one read transaction, one moment of the database
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            _check(dst, "the copy")
            counts = table_counts(dst)
            version = schema_version(dst)
        finally:
            dst.close()
    except sqlite3.Error as exc:
        part.unlink(missing_ok=True)
        raise BackupError(f"the backup of {source} failed: {exc}") from None
    finally:
        src.close()
    _fsync(part)
    os.replace(part, target)
    _fsync(target.parent)
    return Copy(target, counts, target.stat().st_size, time.monotonic() - started, version)


def check_backup(path: str | os.PathLike, newest_known: int) -> Copy:
    """A backup fit to restore: a sound SQLite file of this bot's schema, not newer than the
    schema this code knows (``newest_known``)."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"there is no backup at {path}")
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        _check(conn, str(path))
        version = schema_version(conn)
        if version < 0:
            raise BackupError(f"{path} is not a database of this bot (no schema_migrations)")
        if version > newest_known:
            raise BackupError(f"{path} has schema version {version}, newer than this "
                              f"version of the bot knows ({newest_known}): update the bot "
                              "first")
        counts = table_counts(conn)
    finally:
        conn.close()
    return Copy(path, counts, path.stat().st_size, 0.0, version)


def restore(backup_path: str | os.PathLike, db_path: str | os.PathLike, *,
            newest_known: int) -> tuple[Copy, Path | None]:
    """Replace the database at ``db_path`` by the backup; what was restored, and where the
    database as it was before is kept (None when there was none)."""
    backup_path, db_path = Path(backup_path), Path(db_path)
    checked = check_backup(backup_path, newest_known)
    try:
        lock = instance.acquire(db_path)
    except instance.AlreadyRunning as exc:
        who = exc.holder.describe() if exc.holder else "a process that did not say who it is"
        raise BackupError(f"a bot is running on {db_path} ({who}): stop it before "
                          "restoring") from None
    with lock:
        kept = None
        if db_path.exists():
            kept = db_path.with_name(
                f"{db_path.name}.before-restore-{time.strftime('%Y%m%d-%H%M%S')}")
            backup(db_path, kept)
        started = time.monotonic()
        src = sqlite3.connect(f"{backup_path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            dst = _connect(db_path)
            try:
                src.backup(dst)
                _check(dst, "the restored database")
                counts = table_counts(dst)
            finally:
                dst.close()
        except sqlite3.Error as exc:
            raise BackupError(f"the restore into {db_path} failed: {exc}"
                              + (f"; the database as it was is in {kept}" if kept else "")
                              ) from None
        finally:
            src.close()
    if counts != checked.counts:
        raise BackupError(f"the restored database differs from the backup ({counts} != "
                          f"{checked.counts})" + (f"; the database as it was is in {kept}"
                                                  if kept else ""))
    return Copy(db_path, counts, db_path.stat().st_size, time.monotonic() - started,
                checked.schema_version), kept
