"""One bot process per database: an operating-system lock on a file next to it.

Two bots on one database send everything twice as fast as the messengers allow, and split a
person's dialog between them. The bot takes an exclusive ``flock`` on ``<database>.lock`` at
start-up and holds it while it runs; the file says who holds it (pid, host, since when). The
lock belongs to the open file, so it ends with the process however it ends — also at a
``kill -9`` or a power cut — and never blocks the next start; the file left behind is only
read for its words. The command line's admin commands take no lock: they may run beside the
bot (SQLite serialises their writes).

PostgreSQL (issue 13, several workers): this maps onto the leader election of DESIGN.md —
a session-level advisory lock (``pg_try_advisory_lock``) held by the worker that plans and
dispatches, which ends with its connection just as this lock ends with the process; the other
workers take webhooks and process messages, and one of them takes the lock when the leader
dies. Only :func:`acquire`'s caller (``bot.app``) knows what holding it means.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock; the bot runs unguarded there (see acquire)
    fcntl = None

LOCK_SUFFIX = ".lock"


@dataclass(frozen=True)
class Holder:
    """Who holds the lock, as it wrote itself into the file."""

    pid: int | None
    host: str
    since: float | None  # epoch seconds
    command: str

    def describe(self) -> str:
        since = (time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.since))
                 if self.since else "an unknown time")
        where = f" on {self.host}" if self.host and self.host != socket.gethostname() else ""
        pid = f"pid {self.pid}" if self.pid else "an unknown process"
        return f"{pid}{where}, running since {since}"


class AlreadyRunning(Exception):
    """Another bot process holds the database."""

    def __init__(self, path: Path, holder: Holder | None):
        self.path = path
        self.holder = holder
        who = holder.describe() if holder else "a process that did not say who it is"
        super().__init__(f"another bot is already running on this database ({who}; lock "
                         f"{path}): stop it first, or give this one another database "
                         "(GIAMNGHEO_DB)")


def lock_path(db_path: str | os.PathLike) -> Path:
    return Path(f"{db_path}{LOCK_SUFFIX}")


class InstanceLock:
    """The lock, held from :func:`acquire` until :meth:`release` (or the process's end)."""

    def __init__(self, path: Path, fd: int | None):
        self.path = path
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)  # nobody holds it any more
        except OSError:
            pass
        os.close(self._fd)  # closing the file ends the lock
        self._fd = None

    def __enter__(self) -> InstanceLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def acquire(db_path: str | os.PathLike) -> InstanceLock:
    """Take the database's lock for this process, or raise :class:`AlreadyRunning` naming
    the process that holds it. On a system without ``flock`` nothing is locked."""
    path = lock_path(db_path)
    if fcntl is None:
        return InstanceLock(path, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # never truncated before it is ours
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise AlreadyRunning(path, _read_holder(path)) from None
    me = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time(),
          "command": " ".join(sys.argv)}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(me).encode(), 0)
    return InstanceLock(path, fd)


def holder(db_path: str | os.PathLike) -> Holder | None:
    """Who holds the database's lock now (None when no bot runs on it)."""
    path = lock_path(db_path)
    if fcntl is None or not path.exists():
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:  # held
            return _read_holder(path) or Holder(None, "", None, "")
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read_holder(path: Path) -> Holder | None:
    for _ in range(3):  # the holder may be writing it this very moment
        try:
            data = json.loads(path.read_text(encoding="utf-8") or "null")
        except (OSError, ValueError):
            data = None
        if isinstance(data, dict):
            pid = data.get("pid")
            since = data.get("since")
            return Holder(pid if isinstance(pid, int) else None, str(data.get("host") or ""),
                          float(since) if isinstance(since, int | float) else None,
                          str(data.get("command") or ""))
        time.sleep(0.05)
    return None
