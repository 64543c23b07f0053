"""The console channel: chat with the bot in a terminal, or feed it a script of lines.

An adapter like the others (DESIGN.md, "adapters only translate"): each line typed becomes an
``Inbound`` of channel ``console`` from the acting person's console identity, and each
``Outbound`` is printed as text. The core resolves typed option labels and numbers itself, so
the console only ever sends text:

* ``free_input`` replies show their options as shortcuts on one line, ``[Giữ nguyên (120)]
  [0 (không có)] [❌ Hủy]``: the person types a label (diacritics optional), and a number
  typed stays a number;
* other replies show a numbered list, ``1. ✅ Gửi``, answered by number or label.

Images and documents are written to a folder and their paths printed.

Interactive mode (stdin is a terminal): a banner, then a ``> `` prompt; ``/quit`` or Ctrl-D
leaves; ``/as WHO`` changes who you act as (in scripts too). Scripted mode (stdin is not a
terminal, or a script file): each line is echoed as ``> line`` followed by the replies, blank
lines are skipped, lines starting with ``#`` are printed as they are (comments); the run ends
at the end of the input with status 0.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import secrets
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot import demo
from bot.channels.plain import options_text
from common.catalogue import t
from common.messages import Inbound, Outbound
from common.text import plain
from handlers.core import Core
from handlers.menu import ROLE_KEYS
from handlers.router import show_invite
from storage import people
from storage.audit import Actor

log = logging.getLogger(__name__)

CHANNEL = "console"
PROMPT = "> "
QUIT_WORDS = ("/quit", "/exit")
SWITCH_WORD = "/as"
MAX_LISTED_PEOPLE = 20

# Role keywords of ``--as`` (compared folded, without spaces, dashes or underscores).
ROLE_WORDS = {
    "truongthon": "village_head",
    "villagehead": "village_head",
    "canboxa": "commune_officer",
    "officer": "commune_officer",
    "canbotinh": "province_officer",
    "provinceofficer": "province_officer",
    "admin": "admin",
    "quantri": "admin",
    "quantrivien": "admin",
    "khach": "stranger",
    "nguoila": "stranger",
    "stranger": "stranger",
}


@dataclass(frozen=True)
class Persona:
    """Who the console speaks as: a console identity, and the person behind it if any."""

    sender_id: str
    name: str
    person_id: int | None = None
    roles: str = ""  # "Trưởng thôn — Bản Nà Khan", for the banner and the choice list


class PersonaError(Exception):
    """``--as`` names nobody; the message (Vietnamese) says what may be typed instead."""


# ---- rendering ----------------------------------------------------------------------------


class FileSink:
    """Writes images and documents of replies to a folder; returns the paths written."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._counter = itertools.count(1)
        self._session = uuid.uuid4().hex[:6]

    def save(self, data: bytes, name: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^\w.\-]+", "_", Path(name).name) or "file"
        path = self.folder / f"{self._session}-{next(self._counter):03d}-{safe}"
        path.write_bytes(data)
        return path


def render(message: Outbound, files: FileSink | None = None) -> str:
    """One reply as console text: attachments, the text, then its options."""
    lines: list[str] = []
    if message.chat_id:
        lines.append(t("console.other_chat", chat=message.chat_id))
    if message.image is not None:
        if files is None:
            lines.append(t("console.image_not_saved"))
        else:
            lines.append(t("console.image_saved", path=files.save(message.image, "image.png")))
    if message.document is not None:
        if files is None:
            lines.append(t("console.document_not_saved"))
        else:
            path = files.save(message.document, message.filename or "document.bin")
            lines.append(t("console.document_saved", path=path))
    if message.text:
        lines.append(message.text)
    if message.options:
        lines.append(options_text(message))
    return "\n".join(lines)


def render_all(messages: list[Outbound], files: FileSink | None = None) -> str:
    return "\n\n".join(render(m, files) for m in messages)


# ---- personas -----------------------------------------------------------------------------


def _key(word: str) -> str:
    return plain(word.replace("_", " ").replace("-", " ")).replace(" ", "")


def _describe(person: people.Person) -> str:
    return "; ".join(f"{t(ROLE_KEYS[r.role])} — {r.area.name}" for r in person.roles)


async def _persona_of(core: Core, person_id: int, *, link: bool = True) -> Persona | None:
    """The persona of a person, giving them a console identity if they have none yet (unless
    ``link`` is False: then the identity they would get is shown, and nothing is written)."""
    async with core.db.read() as conn:
        person = await people.get_person(conn, person_id)
        if person is None:
            return None
        identities = await people.identities_of(conn, person_id)
    console_ids = sorted(i["external_id"] for i in identities if i["channel"] == CHANNEL)
    if console_ids:
        sender = console_ids[0]
    else:
        sender = f"p{person_id}"
    if not console_ids and link:
        async with core.db.write() as conn:
            if await people.person_by_identity(conn, CHANNEL, sender) is not None:
                sender = f"p{person_id}-{secrets.token_hex(3)}"  # "p7" was taken: never reuse
            await people.link_identity(
                conn, person_id, channel=CHANNEL, external_id=sender, chat_id=sender,
                display_name=person.full_name, actor=Actor(None, "console:operator"),
                at=core.clock(),
            )
        log.info("gave person %s the console identity %s", person_id, sender)
    return Persona(sender, person.full_name, person.id, _describe(person))


def stranger() -> Persona:
    """Someone not registered: a fresh console identity each time."""
    return Persona(f"khach-{secrets.token_hex(3)}", t("console.stranger_name"))


async def _by_role(core: Core, kind: str) -> int | None:
    """The person acting in ``kind``: the demo's featured one, else the first in the database."""
    async with core.db.read() as conn:
        featured = await demo.demo_personas(conn)
        if kind in featured:
            return featured[kind]
        rows = await people.list_people(conn)
    levels = core.config.level_keys()
    report = core.config.report_level
    commune_level = levels[levels.index(report) - 1] if report in levels[1:] else None
    wanted = {
        "village_head": lambda r: r["role"] == "village_head",
        "commune_officer": lambda r: r["role"] == "officer" and r["level"] == commune_level,
        "province_officer": lambda r: r["role"] == "officer" and r["level"] == levels[0],
        "admin": lambda r: r["role"] == "admin",
    }[kind]
    found = sorted(r["id"] for r in rows if wanted(r))
    return found[0] if found else None


async def resolve_persona(core: Core, who: str) -> Persona:
    """``who`` as ``--as`` takes it: a person id, a console identity, or a role keyword."""
    who = who.strip()
    kind = ROLE_WORDS.get(_key(who))
    if kind == "stranger":
        return stranger()
    if kind is not None:
        person_id = await _by_role(core, kind)
        persona = await _persona_of(core, person_id) if person_id is not None else None
        if persona is None:
            raise PersonaError(t("console.no_one_in_role", who=who))
        return persona
    if who.isascii() and who.isdigit():
        persona = await _persona_of(core, int(who))
        if persona is None:
            raise PersonaError(t("console.no_such_person", who=who))
        return persona
    async with core.db.read() as conn:
        person = await people.person_by_identity(conn, CHANNEL, who)
    if person is None:
        raise PersonaError(t("console.no_such_person", who=who))
    return Persona(who, person.full_name, person.id, _describe(person))


async def personas(core: Core) -> list[Persona]:
    """The people to choose from: the demo's featured personas, else people with a role."""
    async with core.db.read() as conn:
        featured = await demo.demo_personas(conn)
        rows = [] if featured else await people.list_people(conn)
    ids = [featured[k] for k in demo.PERSONA_KINDS if k in featured]
    if not featured:
        ids = list(dict.fromkeys(r["id"] for r in rows))[:MAX_LISTED_PEOPLE]
    found = [await _persona_of(core, person_id, link=False) for person_id in ids]
    return [p for p in found if p is not None]


# ---- reading lines ------------------------------------------------------------------------


class LineReader:
    """Reads lines of a text stream in a daemon thread, so the event loop never blocks and an
    interrupted process never waits for a pending read."""

    def __init__(self, stream: TextIO):
        self._stream = stream
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._eof = False
        loop = asyncio.get_running_loop()
        threading.Thread(target=self._pump, args=(loop,), name="console-input",
                         daemon=True).start()

    def _pump(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            try:
                line = self._stream.readline()
            except ValueError:  # closed after the session ended (/quit)
                line = ""
            except (OSError, UnicodeDecodeError) as exc:
                log.warning("cannot read the console input: %s", exc)
                line = ""
            try:
                loop.call_soon_threadsafe(self._queue.put_nowait, line or None)
            except RuntimeError:  # the loop is closed: nobody is listening any more
                return
            if not line:
                return

    async def readline(self) -> str | None:
        """The next line without its line ending, or None at the end of the input."""
        if self._eof:
            return None
        line = await self._queue.get()
        if line is None:
            self._eof = True
            return None
        return line.rstrip("\r\n")


# ---- the session --------------------------------------------------------------------------


class ConsoleSession:
    """One person chatting through the console: text in, rendered replies out."""

    def __init__(self, core: Core, persona: Persona, out: TextIO, files: FileSink | None):
        self.core = core
        self.persona = persona
        self.out = out
        self.files = files

    async def send(self, text: str) -> list[Outbound]:
        """Send ``text`` to the core as this persona, print the replies and return them."""
        inbound = Inbound(
            channel=CHANNEL, sender_id=self.persona.sender_id, chat_id=self.persona.sender_id,
            message_id=uuid.uuid4().hex, text=text,
            # a stranger has no name on the console («Người lạ» is a label, not a name)
            display_name=self.persona.name if self.persona.person_id is not None else "",
        )
        replies = await self.core.handle(inbound)
        if replies:
            try:
                self.print(render_all(replies, self.files))
            except OSError:
                # Not shown (the terminal or the pipe is gone, an attachment could not be
                # written): as on the messengers, the question is asked again at the next
                # answer rather than that answer taken for it.
                await self.core.undelivered(inbound, replies)
                raise
        return replies

    def print(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()


class ConsoleSender:
    """The dispatcher's way to send on the console (``scheduler.dispatcher.Sender``).

    On the demo everybody reads the same screen: what the bot sends on its own (reminders,
    announcements, the report to the officer who made one) is collected here and printed after
    the reply, each with its recipient.
    """

    channel = CHANNEL
    rate = 1000.0
    per_chat_interval = 0.0

    def __init__(self):
        self.delivered: list[tuple[str, Outbound]] = []

    async def send(self, chat_id: str, message: Outbound) -> None:
        """Keep ``message`` for printing."""
        self.delivered.append((chat_id, message))


class ConsoleDelivery:
    """On the demo database only: the calendar (interactive mode, real time) and the outbox,
    delivered on the console after each message. A real database is left to the bot process
    that runs the messenger channels."""

    def __init__(self, core: Core, session: ConsoleSession, calendar: bool):
        from scheduler.dispatcher import Dispatcher
        from scheduler.planner import Planner

        self.sender = ConsoleSender()
        self.session = session
        self.dispatcher = Dispatcher(core.db, core.config, {CHANNEL: self.sender}, core.clock)
        self.planner = Planner(core.db, core.config, core.clock) if calendar else None

    async def deliver(self) -> None:
        """Plan what the calendar asks for now, deliver what is due, print it."""
        if self.planner is not None:
            await self.planner.tick()
        await self.dispatcher.drain()
        for chat_id, message in self.sender.delivered:
            self.session.print(t("console.outbox", to=chat_id))
            self.session.print(render(message, self.session.files))
            self.session.print()
        self.sender.delivered.clear()


def default_out_dir(core: Core) -> Path:
    """Where attachments go: ``console-out`` beside the database file."""
    db_path = str(core.db.path)
    base = Path(db_path).parent if db_path != ":memory:" else Path.cwd()
    return base / "console-out"


async def run_console(
    core: Core,
    *,
    who: str | None = None,
    scripted: bool | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    out_dir: Path | None = None,
) -> int:
    """Chat with ``core`` on the console until ``/quit`` or the end of the input.

    ``who`` is what ``--as`` gives (see ``resolve_persona``); without it, interactive mode asks
    and a script on the demo acts as its village head. ``scripted`` defaults to "stdin is not a
    terminal". Returns the exit status: 0, or 2 when ``who`` names nobody (or is missing for a
    script on a real database).
    """
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    if stdout is sys.stdout and hasattr(stdout, "reconfigure"):
        stdout.reconfigure(errors="replace")  # a terminal without emoji still gets the text
    if scripted is None:
        scripted = not _is_tty(stdin)
    files = FileSink(out_dir or default_out_dir(core))
    session = ConsoleSession(core, stranger(), stdout, files)
    reader = LineReader(stdin)

    async with core.db.read() as conn:
        meta = await demo.demo_meta(conn)
    if not scripted:
        session.print(t("console.banner"))
    if meta is not None:
        session.print(t("console.demo_banner"))
        if not scripted and meta.get("demo.invite"):
            session.print(t("console.demo_invite", code=_show_code(meta["demo.invite"]),
                            area=meta.get("demo.invite_area", "")))

    persona: Persona | None = None
    if who:
        try:
            persona = await resolve_persona(core, who)
        except PersonaError as exc:
            session.print(str(exc))
            return 2
    elif scripted:
        if meta is None:
            session.print(t("console.as_required"))
            return 2
        persona = await resolve_persona(core, "truong-thon")
    else:
        persona = await _choose_persona(core, session, reader)
        if persona is None:
            session.print(t("console.bye"))
            return 0
    session.persona = persona
    session.print(_acting_as(persona))
    if not scripted:
        session.print(t("console.help"))
    session.print()
    delivery = ConsoleDelivery(core, session, calendar=not scripted) if meta else None
    if delivery is not None:
        await delivery.deliver()

    while True:
        if not scripted:
            stdout.write(PROMPT)
            stdout.flush()
        line = await reader.readline()
        if line is None:
            if not scripted:
                session.print()
                session.print(t("console.bye"))
            return 0
        text = line.strip()
        if scripted:
            if not text:
                continue
            if text.startswith("#"):
                session.print(text)
                continue
            session.print(f"{PROMPT}{text}")
        if not text:
            continue
        word, _, rest = text.partition(" ")
        if word.lower() in QUIT_WORDS:
            if not scripted:
                session.print(t("console.bye"))
            return 0
        if word.lower() == SWITCH_WORD:
            if not rest.strip():
                session.print(t("console.as_usage"))
            else:
                try:
                    session.persona = await resolve_persona(core, rest)
                    session.print(_acting_as(session.persona))
                except PersonaError as exc:
                    session.print(str(exc))
            session.print()
            continue
        await session.send(text)
        session.print()
        if delivery is not None:
            await delivery.deliver()


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _show_code(code: str) -> str:
    return show_invite(code)


def _acting_as(persona: Persona) -> str:
    if persona.person_id is None:
        return t("console.acting_as_stranger", sender=persona.sender_id)
    return t("console.acting_as", name=persona.name, roles=persona.roles or "—",
             sender=persona.sender_id)


async def _choose_persona(core: Core, session: ConsoleSession,
                          reader: LineReader) -> Persona | None:
    """Ask who to act as, with a numbered list; None at the end of the input."""
    choices = await personas(core)
    session.print(t("console.choose_persona"))
    for number, persona in enumerate(choices, start=1):
        session.print(t("console.persona_line", n=number, name=persona.name,
                        roles=persona.roles or "—"))
    session.print(t("console.persona_line_stranger", n=len(choices) + 1))
    while True:
        session.out.write(PROMPT)
        session.out.flush()
        line = await reader.readline()
        if line is None:
            session.print()
            return None
        answer = line.strip()
        if answer.lower() in QUIT_WORDS:
            return None
        if answer.isascii() and answer.isdigit():  # a line of the list, never a person id
            number = int(answer)
            if 1 <= number <= len(choices):
                return await _persona_of(core, choices[number - 1].person_id) or stranger()
            if number == len(choices) + 1:
                return stranger()
        elif answer:  # a role keyword or a console identity works too
            try:
                return await resolve_persona(core, answer)
            except PersonaError:
                pass
        session.print(t("console.choose_persona_again", n=len(choices) + 1))
