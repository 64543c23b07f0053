"""The one place that wires the services together (STYLE.md §7) and runs a channel.

``run(config, …)`` is what the command line calls: it sets up logging, opens the database
(migrations run at start-up), builds the ``Core``, runs the chosen channel until it stops, and
closes everything, also on Ctrl-C.

The messengers' bot is one process per database: it takes the database's lock first
(:mod:`storage.instance`) and a second bot is refused with one line naming the process that
holds it (the command line's admin commands and the console take no lock). SIGINT, SIGTERM and
SIGHUP stop it the same way: no new messages, those under way finish, the outbox's sends in
flight are recorded. While it runs, it writes its loops' health next to the database every
``HEARTBEAT_EVERY`` seconds for ``python -m bot health``.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from bot import demo as demo_db
from bot.channels.signals import stop_on_signals
from common.config import Config, ConfigError
from handlers.core import Core
from scheduler import Clockwork
from storage import health as health_report
from storage import instance
from storage.db import Database

log = logging.getLogger(__name__)

MODES = ("auto", "console", "telegram", "zalo")
MESSENGERS = ("telegram", "zalo")
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
HEARTBEAT_EVERY = 2.0  # seconds between two health reports of the running bot
_HANDLER_NAME = "giamngheo"
SWITCH_INTERVAL_S = 0.001  # the GIL switch interval (tune_runtime)
# Libraries that log every request URL at INFO; Telegram's URLs contain the bot token.
_CHATTY_LOGGERS = ("httpx", "httpcore", "telegram.request", "apscheduler.executors")


@dataclass
class Services:
    """What a channel needs, built once and passed down explicitly."""

    config: Config
    db: Database
    core: Core


@asynccontextmanager
async def open_services(
    config: Config,
    db_path: str | Path | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
) -> AsyncIterator[Services]:
    """Open the database (``config.db_path`` unless ``db_path``), migrate it, build the core;
    close the database when the block ends."""
    db = await Database.open(
        db_path or config.db_path,
        synchronous=config.db_synchronous,
        busy_timeout_ms=config.db_busy_timeout_ms,
    )
    log.info("opened the database %s", db.path)
    core = Core(db, config, clock)
    try:
        await core.stats.resolve()  # an unknown area in [[targets.areas]] stops the start
        yield Services(config, db, core)
    finally:
        core.close()
        await db.close()
        log.info("closed the database %s", db.path)


class _RedactingFormatter(logging.Formatter):
    """Replaces secrets (the bot token) wherever they appear in a formatted record."""

    def __init__(self, fmt: str, secrets: tuple[str, ...]):
        super().__init__(fmt)
        self._secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self._secrets:
            text = text.replace(secret, "[REDACTED]")
        return text


def tune_runtime() -> None:
    """Fewer, cheaper garbage collections: the objects built at start-up are frozen out of
    the collector's sight, and the youngest generation is collected every 50,000 allocations
    instead of 700 (most garbage is freed by reference counting anyway). Measured with
    ``python -m bench.core``: it removes most of the pauses behind the slowest replies.

    And a shorter GIL switch interval (1 ms instead of 5 ms): every database call runs in the
    driver's thread, which needs the GIL to start the call and to hand back its result; while
    the event loop runs Python work (statistics), each such hand-over could wait up to the
    whole interval, and a message makes a dozen of them (``python -m bench.stats``)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def setup_logging(config: Config, stream: TextIO | None = None, quiet: bool = False) -> None:
    """Log to stderr at ``config.log_level``; the Telegram token never reaches the log.

    ``quiet`` (the console chat) shows warnings and errors only, so the chat stays readable.
    """
    level = logging.getLevelNamesMapping().get(config.log_level, logging.INFO)
    if quiet:
        level = max(level, logging.WARNING)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(_RedactingFormatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s",
        (config.telegram.token, config.zalo.token, config.zalo.webhook_secret)))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


def run_loop(config: Config, main: Coroutine[Any, Any, int]) -> int:
    """Run ``main`` to its end on the configured event loop (``bot.event_loop``)."""
    if config.event_loop == "uvloop":
        try:
            import uvloop
        except ImportError:  # not installed (Windows): the standard loop
            log.info("uvloop is not installed; running the standard asyncio loop")
        else:
            return uvloop.run(main)
    return asyncio.run(main)


def demo_path(config: Config, demo: bool | str | Path | None) -> Path | None:
    """The demo database to use: ``config.demo_path`` for True, a given path, or None."""
    if demo is None or demo is False:
        return None
    return config.demo_path if demo is True else Path(demo)


def run(
    config: Config,
    *,
    mode: str = "auto",
    person: str | None = None,
    demo: bool | str | Path | None = None,
    reset_demo: bool = False,
    script: bool | str | Path | None = None,
    demo_size: str = "small",
) -> int:
    """Run the bot until it stops; return the process exit status.

    ``mode``: ``"auto"`` runs every messenger with a token (Telegram, Zalo), else the
    console on the demo database; ``"console"`` chats on the console (on the real database
    unless ``demo``); ``"telegram"`` or ``"zalo"`` runs that messenger alone (an error
    without its token).
    ``person``: who the console acts as (``--as``: person id, console identity or role word).
    ``demo``: True for the demo database at ``config.demo_path``, a path for another one,
    None for the mode's default (the demo only in ``auto`` mode without a token). The demo is
    built when missing, built in an earlier month, or when ``reset_demo``; ``demo_size``
    ``"large"`` uses the large demo instead (``bot.demo.path_for``).
    ``script``: console input; None reads stdin (scripted when it is not a terminal), True
    forces scripted mode on stdin, a path (``"-"`` for stdin) reads the lines of that file.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    tokens = {"telegram": config.telegram.token, "zalo": config.zalo.token}
    channels = [name for name in MESSENGERS if tokens[name]] if mode == "auto" else (
        [mode] if mode in MESSENGERS else [])
    if mode == "auto" and not channels:
        mode = "console"
        if demo is None:
            demo = True
    setup_logging(config, quiet=mode == "console")
    tune_runtime()
    if mode in MESSENGERS and not tokens[mode]:
        variable = f"GIAMNGHEO_{mode.upper()}_TOKEN"
        log.error("no %s token: set the environment variable %s (or run the console chat "
                  "instead)", mode.capitalize(), variable)
        return EXIT_USAGE
    if mode != "console":
        mode = "messengers"
    stream: TextIO | None = None
    if script is not None and not isinstance(script, bool):
        if str(script) == "-":
            script = True
        else:
            try:
                stream = script = Path(script).open(encoding="utf-8")
            except OSError as exc:
                log.error("cannot read the script %s: %s", script, exc)
                return EXIT_USAGE
    try:
        path = demo_path(config, demo)
        if path is not None and demo is True:
            path = demo_db.path_for(path, demo_size)
        return run_loop(config, _main(config, mode, channels, person, path, reset_demo,
                                      script, demo_size))
    except KeyboardInterrupt:
        print(file=sys.stderr)
        log.info("interrupted; stopped")
        return EXIT_INTERRUPTED
    finally:
        if stream is not None:
            stream.close()


async def _main(config: Config, mode: str, channels: list[str], person: str | None,
                demo: Path | None, reset_demo: bool, script: bool | TextIO | None,
                demo_size: str = "small") -> int:
    db_path = config.db_path
    if demo is not None:
        today = datetime.now(config.timezone).date()
        try:
            await demo_db.ensure_demo(demo, config, today, reset=reset_demo, size=demo_size)
        except demo_db.DemoError as exc:
            log.error("cannot use the demo database: %s", exc)
            return EXIT_USAGE
        db_path = demo
    lock = None
    try:
        if mode == "messengers":
            lock = instance.acquire(db_path)  # before anything touches the database
        async with open_services(config, db_path) as services:
            if mode == "messengers":
                return await _run_messengers(services, channels)
            return await _run_console(services, person, script)
    except instance.AlreadyRunning as exc:
        log.error("%s", exc)
        return EXIT_USAGE
    except ConfigError as exc:
        log.error("configuration error: %s", exc)
        return EXIT_USAGE
    except Exception:
        log.exception("the bot stopped on an error")
        return EXIT_FAILED
    finally:
        if lock is not None:
            lock.release()


async def _run_console(services: Services, person: str | None,
                       script: bool | TextIO | None) -> int:
    from bot.channels.console import run_console

    if script is None or script is False:
        return await run_console(services.core, who=person)
    if script is True:
        return await run_console(services.core, who=person, scripted=True)
    return await run_console(services.core, who=person, scripted=True, stdin=script)


async def _run_messengers(services: Services, channels: list[str],
                          stop: asyncio.Event | None = None) -> int:
    """Run the messengers in ``channels`` until SIGINT, SIGTERM or SIGHUP (or ``stop``):
    Telegram by polling, Zalo by its webhook (or polling); one calendar and one outbox
    deliver on both."""
    stop = stop or asyncio.Event()
    senders: dict = {}
    heartbeat = asyncio.create_task(_heartbeat(services, channels), name="heartbeat")
    try:
        return await _serve(services, channels, stop, senders)
    finally:
        heartbeat.cancel()
        try:
            await heartbeat
        except asyncio.CancelledError:
            pass
        _write_last_health(services, channels)


async def _heartbeat(services: Services, channels: list[str]) -> None:
    """The health report, every ``HEARTBEAT_EVERY`` seconds (``python -m bot health``): made
    on the event loop (the loops' states change there), written in a thread."""
    health = services.db.health.loop("heartbeat", "the health report", every=HEARTBEAT_EVERY,
                                     logger=log)
    while True:
        report = _health_report(services, channels, stopped=False)
        try:
            await asyncio.to_thread(health_report.write_report, services.db.path, report)
        except OSError as error:  # a full disk: the report grows old, which says so
            health.failed(error)
        else:
            health.ok()
        await asyncio.sleep(HEARTBEAT_EVERY)


def _health_report(services: Services, channels: list[str], *, stopped: bool) -> dict:
    return services.db.health.report(channels=channels, heartbeat_every=HEARTBEAT_EVERY,
                                     stopped=stopped)


def _write_last_health(services: Services, channels: list[str]) -> None:
    """The report of a bot that stopped normally."""
    try:
        health_report.write_report(services.db.path,
                                   _health_report(services, channels, stopped=True))
    except OSError as error:
        log.warning("could not write the health report next to %s: %s", services.db.path,
                    error)


async def _serve(services: Services, channels: list[str], stop: asyncio.Event,
                 senders: dict) -> int:
    config, core = services.config, services.core

    async def start_background(bot=None):
        """Zalo, the chart processes, and the reminders' planning and delivery; returns the
        coroutine function that stops them. Called once Telegram's token is checked (``bot``);
        Zalo's is checked by its start, so every token is checked before the chart workers —
        seconds of CPU — start, and a wrong one is told at once."""
        if bot is not None:
            from bot.channels.telegram import TelegramSender
            senders[TelegramSender.channel] = TelegramSender(bot, config)
        zalo = None
        if "zalo" in channels:
            from bot.channels.zalo import ZaloChannel
            zalo = ZaloChannel(config, core, services.db)
            try:
                await zalo.start()
            except BaseException:
                await zalo.stop()
                raise
            senders[zalo.sender.channel] = zalo.sender
        try:
            await core.stats.renderer.start()
            clockwork = Clockwork(services.db, config, senders, core.clock)
            await clockwork.start()
        except BaseException:
            if zalo is not None:
                await zalo.stop()
            raise

        async def stop_background() -> None:
            core.stop_retrying()  # messages waiting for the database wait for the next start
            await clockwork.stop()  # no more reminders, then no more Zalo
            if zalo is not None:
                await zalo.stop()

        return stop_background

    log.info("running on %s", " and ".join(channels))
    if "telegram" in channels:
        from bot.channels.telegram import run_polling  # imports telegram only when needed

        await run_polling(config, core, stop=stop, on_started=start_background)
    else:
        with stop_on_signals(stop):
            stop_background = await start_background()
            try:
                await stop.wait()
            finally:
                await stop_background()
    log.info("stopped")
    return EXIT_OK
