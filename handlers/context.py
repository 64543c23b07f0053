"""What a handler gets for one message (``Context``) and a reply to a dialog's question
(``Answer``). The dialogs import these, never the core that calls them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import aiosqlite

from common.config import Config
from common.messages import Inbound
from reports.stats import StatsService
from storage.audit import Actor
from storage.people import Person


@dataclass
class Context:
    """Everything a handler needs for one message."""

    conn: aiosqlite.Connection
    config: Config
    inbound: Inbound
    person: Person | None
    now: datetime  # aware, UTC
    today: date  # in the configured time zone
    stats: StatsService | None = None
    settled: bool = False  # the dialog state was saved or cleared for this message
    in_dialog: bool = False  # work under way in a dialog when the message came (core)
    # Identities whose person changed (unlinked): forgotten by the cache once committed.
    forget: list[tuple[str, str]] = field(default_factory=list)

    @property
    def actor(self) -> Actor:
        who = self.person.id if self.person else None
        return Actor(who, f"{self.inbound.channel}:{self.inbound.sender_id}")


@dataclass
class Answer:
    """A reply to the dialog's current question: typed text, or a chosen option's action."""

    text: str
    action: str | None
