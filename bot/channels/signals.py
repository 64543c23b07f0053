"""SIGINT, SIGTERM and SIGHUP as a stop event, for the messengers' run loops.

SIGHUP (the terminal closed, or a service manager's "reload") stops the bot as SIGTERM does,
draining what is under way, rather than killing it on the spot (Python's default); nothing of
the bot is reloaded in place (restart it to read a changed config.toml).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                     if hasattr(signal, name))  # Windows has no SIGHUP


@contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """Set ``stop`` on SIGINT, SIGTERM or SIGHUP while the block runs (where the loop can:
    not in another thread than the main one, not on Windows)."""
    loop = asyncio.get_running_loop()
    installed = []
    for signum in STOP_SIGNALS:
        try:
            loop.add_signal_handler(signum, stop.set)
            installed.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
