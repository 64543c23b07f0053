"""Channel-neutral messages: what adapters turn updates into, and what the core answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Option:
    """One choice offered with a message: a button on Telegram, a numbered line elsewhere."""

    label: str
    data: str
    aliases: tuple[str, ...] = ()  # other words a person may type to choose it


@dataclass(frozen=True, slots=True)
class Inbound:
    """A message from a person, as every channel delivers it to the core.

    ``message_id`` is unique per channel and identical when the channel redelivers the same
    update (Telegram: the update id), which is how redeliveries are recognised.
    ``option`` carries the data of a pressed button (never trusted: it is checked like text).
    """

    channel: str
    sender_id: str
    chat_id: str
    message_id: str
    text: str = ""
    option: str | None = None
    display_name: str = ""
    phone: str | None = None
    received_at: datetime | None = None
    kind: str = "text"  # text | option | image | sticker | unsupported


@dataclass(frozen=True, slots=True)
class Outbound:
    """A reply, channel-neutral.

    ``free_input`` says the person may also type an answer (a number, a name) instead of
    choosing an option; channels without buttons then show the options as typed shortcuts
    rather than as a numbered list, so that typing "1" stays the number one.
    """

    text: str
    options: tuple[Option, ...] = ()
    free_input: bool = True
    image: bytes | None = None
    document: bytes | None = None
    filename: str | None = None
    # The document names people (a household list: personal data): a channel that sends
    # it as a link makes the link short-lived and the file gone once downloaded.
    personal: bool = False
    chat_id: str | None = None  # set when the reply goes to another chat than the sender's
    # Work the core runs after the message's transaction is committed (statistics, charts):
    # it returns the replies that take this one's place. Channels never see it.
    deferred: Callable[[], Awaitable[list[Outbound]]] | None = None
    # Set by the core on the reply that asks the question its dialog now waits on: a channel
    # that could not deliver that reply gives it back (``Core.undelivered``), so that the
    # person's next answer is not taken for a question they never saw.
    asks: str | None = None

    def with_options(self, *options: Option, free_input: bool | None = None) -> Outbound:
        return Outbound(
            text=self.text,
            options=tuple(options),
            free_input=self.free_input if free_input is None else free_input,
            image=self.image,
            document=self.document,
            filename=self.filename,
            personal=self.personal,
            chat_id=self.chat_id,
            deferred=self.deferred,
            asks=self.asks,
        )
