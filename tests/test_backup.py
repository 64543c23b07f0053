"""``backup`` and ``restore`` (issue 12, item 4), on the storage functions and the command
line: a backup taken while another connection commits is one moment of the database; what is
not a backup of this bot is refused with a reason. (The running bot: tests/test_process.py.)"""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from bot import cli
from storage import backup, instance
from storage.db import Database
from storage.migrations import MIGRATIONS

NEWEST = max(number for number, _, _ in MIGRATIONS)


@pytest.fixture
async def live(tmp_path):
    path = tmp_path / "live.sqlite3"
    db = await Database.open(path)
    await db.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE pairs (batch INTEGER, side TEXT)")
    conn.close()
    return path


def test_a_backup_taken_while_writing_is_one_moment_of_the_database(live, tmp_path):
    """Each transaction writes two rows of one batch; a copy made meanwhile holds whole
    batches only, and as many as were committed when it was taken (some, not all)."""
    stop = threading.Event()
    batches = [0]

    def write() -> None:
        conn = sqlite3.connect(live, isolation_level=None, timeout=30)
        conn.execute("PRAGMA busy_timeout=30000")
        while not stop.is_set():
            batches[0] += 1
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO pairs VALUES (?, 'a')", (batches[0],))
            conn.execute("INSERT INTO pairs VALUES (?, 'b')", (batches[0],))
            conn.execute("COMMIT")
        conn.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while batches[0] < 200:
            time.sleep(0.01)
        copies = [backup.backup(live, tmp_path / f"copy{n}.sqlite3") for n in range(3)]
    finally:
        stop.set()
        writer.join()
    for made in copies:
        conn = sqlite3.connect(made.path)
        sides = conn.execute("SELECT batch, group_concat(side, '') FROM pairs"
                             " GROUP BY batch").fetchall()
        conn.close()
        assert sides and all(s == "ab" for _, s in sides)  # no half transaction
        assert [b for b, _ in sides] == list(range(1, len(sides) + 1))
        assert made.counts["pairs"] == 2 * len(sides) and len(sides) < batches[0]
        assert not made.path.with_name(made.path.name + "-wal").exists()


def test_restore_brings_back_every_row_and_keeps_what_was_there(live, tmp_path):
    conn = sqlite3.connect(live, isolation_level=None)
    conn.execute("INSERT INTO pairs VALUES (1, 'a')")
    conn.close()
    made = backup.backup(live, tmp_path / "b.sqlite3")
    conn = sqlite3.connect(live, isolation_level=None)
    conn.execute("INSERT INTO pairs VALUES (2, 'a')")  # after the backup: undone by restore
    conn.execute("DELETE FROM meta")
    conn.close()
    restored, kept = backup.restore(made.path, live, newest_known=NEWEST)
    assert restored.counts == made.counts
    conn = sqlite3.connect(live)
    assert conn.execute("SELECT * FROM pairs").fetchall() == [(1, "a")]
    conn.close()
    conn = sqlite3.connect(kept)
    assert conn.execute("SELECT * FROM pairs ORDER BY 1").fetchall() == [(1, "a"), (2, "a")]
    conn.close()


def test_what_cannot_be_restored_is_refused_with_the_reason(live, tmp_path):
    text = tmp_path / "notes.sqlite3"
    text.write_text("not a database")
    with pytest.raises(backup.BackupError, match="not a SQLite database"):
        backup.restore(text, live, newest_known=NEWEST)
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE x (y)").connection.close()
    with pytest.raises(backup.BackupError, match="not a database of this bot"):
        backup.restore(other, live, newest_known=NEWEST)
    newer = backup.backup(live, tmp_path / "newer.sqlite3").path
    with pytest.raises(backup.BackupError, match="newer than this version"):
        backup.restore(newer, live, newest_known=NEWEST - 1)
    with pytest.raises(backup.BackupError, match="exists already"):
        backup.backup(live, newer)
    with pytest.raises(backup.BackupError, match="no backup at"):
        backup.restore(tmp_path / "missing.sqlite3", live, newest_known=NEWEST)


def test_restore_is_refused_while_a_bot_holds_the_database(live, tmp_path):
    made = backup.backup(live, tmp_path / "b.sqlite3")
    with instance.acquire(live):
        with pytest.raises(backup.BackupError, match="a bot is running .* stop it"):
            backup.restore(made.path, live, newest_known=NEWEST)


def test_the_commands_say_what_they_did(live, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GIAMNGHEO_DB", str(live))
    target = tmp_path / "cli.sqlite3"
    assert cli.main(["backup", str(target)]) == 0
    out = capsys.readouterr().out
    assert f"Backed up {live} to {target}" in out and "checked" in out
    assert cli.main(["backup", str(target)]) == 1
    assert "exists already (--force to replace it)" in capsys.readouterr().err
    assert cli.main(["backup", "--force", str(target)]) == 0
    capsys.readouterr()
    assert cli.main(["restore", str(target)]) == 0
    out = capsys.readouterr().out
    assert f"Restored {target} into {live}" in out and "kept in" in out
    assert cli.main(["health"]) == 1
    assert "Bot: not running" in capsys.readouterr().out


def test_the_lock_says_who_holds_it_and_ends_with_its_holder(live):
    assert instance.holder(live) is None
    with instance.acquire(live):
        held = instance.holder(live)
        assert held is not None and held.pid is not None and held.since is not None
        with pytest.raises(instance.AlreadyRunning, match=f"pid {held.pid}, running since"):
            instance.acquire(live)
    assert instance.holder(live) is None
    instance.acquire(live).release()  # free again
