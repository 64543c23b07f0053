"""The real bot process (``python -m bot --zalo``) against the fake Zalo Bot API of
``tests/fake_zalo_api.py``, for the tests of what only a process shows: signals, kills, a
second process, a database locked by another process, backups while it runs.

The test builds the database, starts the process on it with a config written for it (the
fake's address, a free port, no quiet hours, no chart processes), talks to it as Zalo does
(webhook posts with the secret) and reads what it sent from the fake's record.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import sys
from pathlib import Path

from tests.fake_zalo_api import DEFAULT_TOKEN, FakeZaloApi

ROOT = Path(__file__).resolve().parent.parent
SECRET = "webhook-secret-for-process-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(config: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIAMNGHEO_")}
    env.update(GIAMNGHEO_CONFIG=str(config), GIAMNGHEO_ZALO_TOKEN=DEFAULT_TOKEN,
               GIAMNGHEO_ZALO_SECRET=SECRET, PYTHONUNBUFFERED="1", **extra)
    return env


def write_config(folder: Path, db_path: Path, api: FakeZaloApi, port: int, *,
                 max_rate: float = 1000, busy_timeout_ms: int = 5000) -> Path:
    config = folder / f"config-{port}.toml"
    config.write_text(f"""
[bot]
log_level = "INFO"
[database]
path = "{db_path}"
busy_timeout_ms = {busy_timeout_ms}
[zalo]
base_url = "{api.base_url}"
listen_host = "127.0.0.1"
listen_port = {port}
public_base_url = "http://127.0.0.1:{port}"
max_rate = {max_rate}
per_chat_interval = 0
[calendar]
quiet_start = "00:00"
quiet_end = "00:00"
[stats]
chart_workers = 0
""", encoding="utf-8")
    return config


class BotProcess:
    """One ``python -m bot --zalo`` process; its output is collected in :attr:`lines`."""

    def __init__(self, folder: Path, db_path: Path, api: FakeZaloApi, *,
                 max_rate: float = 1000, busy_timeout_ms: int = 5000):
        self.api = api
        self.db_path = db_path
        self.port = free_port()
        self.config = write_config(folder, db_path, api, self.port, max_rate=max_rate,
                                   busy_timeout_ms=busy_timeout_ms)
        self.env = environment(self.config)
        self.proc: asyncio.subprocess.Process | None = None
        self.lines: list[str] = []
        self._reader: asyncio.Task | None = None

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def start(self, *, ready: bool = True) -> BotProcess:
        """Start it; with ``ready``, wait until it registered its webhook."""
        registered = len(self.api.calls_to("setWebhook"))
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--zalo", cwd=ROOT, env=self.env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT)
        self._reader = asyncio.create_task(self._read())
        if ready:
            for _ in range(600):
                if len(self.api.calls_to("setWebhook")) > registered and \
                        f":{self.port}/" in self.api.webhook_url:
                    await asyncio.sleep(0.2)  # processing what the inbox held
                    return self
                if self.proc.returncode is not None:
                    break
                await asyncio.sleep(0.05)
            raise AssertionError(f"the bot did not start:\n{self.output}")
        return self

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for line in self.proc.stdout:
            self.lines.append(line.decode(errors="replace").rstrip())

    async def wait(self, timeout: float = 30) -> int:  # noqa: ASYNC109
        assert self.proc is not None
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        if self._reader is not None:
            await asyncio.wait_for(self._reader, 5)
        return code

    async def stop(self, signum: int = signal.SIGTERM, timeout: float = 30) -> int:  # noqa: ASYNC109
        if self.proc is None or self.proc.returncode is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signum)
        return await self.wait(timeout)

    async def kill(self) -> None:
        """As a power cut or ``kill -9``: no chance to finish anything."""
        assert self.proc is not None
        self.proc.kill()
        await self.wait()

    async def post(self, event: dict, *, retry_until_ok: bool = False) -> int:
        """Post ``event`` to this process's webhook; ``retry_until_ok`` does what Zalo does
        when it is not answered 200 (sends the same event again)."""
        url = f"http://127.0.0.1:{self.port}/zalo/webhook"
        while True:
            status, _ = await self.api.post_webhook(event, url=url, secret=SECRET)
            if status == 200 or not retry_until_ok:
                return status
            await asyncio.sleep(0.5)

    async def cli(self, *args: str, timeout: float = 60) -> tuple[int, str]:  # noqa: ASYNC109
        """``python -m bot ARGS`` on the same config and database."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, cwd=ROOT, env=self.env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT)
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
        return proc.returncode, out.decode(errors="replace")

    async def close(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            await self.kill()


class Locker:
    """Another process's long write transaction (a large import) on the database."""

    def __init__(self, path: Path):
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def hold(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        if self.conn.in_transaction:
            self.conn.rollback()

    def close(self) -> None:
        self.release()
        self.conn.close()


async def eventually(predicate, seconds: float = 30.0, what: str = "") -> None:
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not reached in {seconds} s: {what}")
