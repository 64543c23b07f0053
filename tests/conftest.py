"""Shared fixtures: a real SQLite database, a small area tree, people, and a chat helper."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from common.config import load_config
from common.messages import Inbound, Outbound
from common.text import plain
from handlers.core import Core
from storage import areas, people
from storage.audit import Actor
from storage.db import Database

ROOT = Path(__file__).resolve().parent.parent
SETUP = Actor(None, "test:setup")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set_local(self, text: str) -> None:
        """Set the time as seen in Vietnam, e.g. ``"2026-11-05 09:00"``."""
        self.now = datetime.fromisoformat(text + "+07:00").astimezone(UTC)

    def advance(self, **kwargs) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class World:
    province: areas.Area
    commune: areas.Area
    other_commune: areas.Area
    village: areas.Area  # Bản Nà Khan, in commune
    village2: areas.Area  # Bản Pa Ủ, in commune
    far_village: areas.Area  # in other_commune
    head_id: int
    officer_id: int
    province_officer_id: int
    far_head_id: int


@pytest.fixture(scope="session")
def demo_file(tmp_path_factory) -> Path:
    """One demo database (as on 5 Nov 2026) built per test run; tests copy it to change it."""
    from bot import demo

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    asyncio.run(demo.build_demo(path, load_config(ROOT / "config.toml", env={}),
                                date(2026, 11, 5)))
    return path


@pytest.fixture(scope="session")
def large_file(tmp_path_factory) -> Path:
    """The large demo (as on 5 Nov 2026), built once per test run; tests copy it."""
    from bot import demo

    path = tmp_path_factory.mktemp("large") / "demo-large.sqlite3"
    asyncio.run(demo.build_demo(path, load_config(ROOT / "config.toml", env={}),
                                date(2026, 11, 5), size="large"))
    return path


@pytest.fixture
def config():
    return load_config(ROOT / "config.toml", env={})


@pytest.fixture
def clock():
    c = Clock(datetime(2026, 11, 5, 2, 0, tzinfo=UTC))  # 09:00 on 5 Nov 2026 in Vietnam
    return c


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "test.sqlite3")
    yield database
    await database.close()


async def build_world(db: Database, at: datetime) -> World:
    async with db.write() as conn:
        prov = await areas.add_area(conn, parent=None, level="province", name="Tỉnh Lai Châu",
                                    code="12", actor=SETUP, at=at)
        com = await areas.add_area(conn, parent=prov, level="commune", name="Xã Mường Tè",
                                   code="03445", actor=SETUP, at=at)
        com2 = await areas.add_area(conn, parent=prov, level="commune", name="Xã Bum Nưa",
                                    code="03466", actor=SETUP, at=at)
        v1 = await areas.add_area(conn, parent=com, level="village", name="Bản Nà Khan",
                                  actor=SETUP, at=at)
        v2 = await areas.add_area(conn, parent=com, level="village", name="Bản Pa Ủ",
                                  actor=SETUP, at=at)
        v3 = await areas.add_area(conn, parent=com2, level="village", name="Bản Nậm Củm",
                                  actor=SETUP, at=at)
        ids = []
        for name, role, area, ext in (
            ("Lò Văn Páo", "village_head", v1, "100"),
            ("Nguyễn Thị Hoa", "officer", com, "200"),
            ("Trần Văn Minh", "officer", prov, "300"),
            ("Pờ Văn Sứ", "village_head", v3, "400"),
        ):
            pid = await people.create_person(conn, name, actor=SETUP, at=at)
            await people.link_identity(conn, pid, channel="test", external_id=ext, chat_id=ext,
                                       display_name=name, actor=SETUP, at=at)
            await people.grant_role(conn, pid, role, area, actor=SETUP, at=at)
            ids.append(pid)
    return World(prov, com, com2, v1, v2, v3, *ids)


@pytest.fixture
async def world(db, clock):
    return await build_world(db, clock())


@pytest.fixture
def core(db, config, clock):
    return Core(db, config, clock)


_ids = itertools.count(1)


class Chat:
    """A person chatting with the core; reads like a conversation in tests."""

    def __init__(self, core: Core, sender: str, channel: str = "test", name: str = ""):
        self.core = core
        self.sender = sender
        self.channel = channel
        self.name = name
        self.last: list[Outbound] = []

    async def send(self, text: str, *, message_id: str | None = None) -> str:
        inbound = Inbound(self.channel, self.sender, self.sender,
                          message_id or f"m{next(_ids)}", text=text, display_name=self.name)
        return await self._deliver(inbound)

    async def press(self, label: str) -> str:
        """Press the button whose label contains ``label`` (ignoring diacritics)."""
        for message in reversed(self.last):
            for option in message.options:
                if plain(label) in plain(option.label):
                    return await self.press_data(option.data)
        raise AssertionError(f"no button {label!r} in {self.options()}")

    async def press_data(self, data: str) -> str:
        inbound = Inbound(self.channel, self.sender, self.sender, f"m{next(_ids)}",
                          option=data, kind="option")
        return await self._deliver(inbound)

    async def _deliver(self, inbound: Inbound) -> str:
        self.last = await self.core.handle(inbound)
        return self.text

    @property
    def text(self) -> str:
        return "\n".join(m.text for m in self.last)

    def options(self) -> list[str]:
        return [o.label for m in self.last for o in m.options]
