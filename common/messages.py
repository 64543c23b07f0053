"""Channel-neutral messages: what adapters turn updates into, and what the core answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from common.text import MAX_INBOUND, clean_inbound, visible

NAME_SHOWN_MAX = 128  # characters of the name a messenger shows for an account
OPTION_MAX = 256  # characters of button data (Telegram's callback data is 64 bytes)


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

    This is the edge: every channel builds one of these, and building it cleans what a person
    sent (``common.text.clean_inbound``: NFC, no control or invisible format character, no
    lone surrogate; a name as ``visible``), so that no dialog ever sees such a character and
    none is stored. ``refused`` is the catalogue key of why the text cannot be read (broken
    characters, longer than ``MAX_INBOUND``; then cut there): the core answers it and reads
    nothing.
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
    refused: str = ""

    def __post_init__(self) -> None:
        text, broken = clean_inbound(self.text)
        refused = self.refused or ("core.unreadable" if broken else "")
        if len(text) > MAX_INBOUND:
            text, refused = text[:MAX_INBOUND], refused or "core.message_too_long"
        name = self.display_name
        if name and not (name.isascii() and name.isprintable()):
            name = visible(clean_inbound(name)[0])
        option = self.option
        if option is not None and not (option.isascii() and option.isprintable()):
            option = clean_inbound(option)[0]
        phone = self.phone
        if phone is not None and not (phone.isascii() and phone.isprintable()):
            phone = visible(clean_inbound(phone)[0])
        for field, value in (("text", text), ("refused", refused),
                             ("display_name", name[:NAME_SHOWN_MAX]),
                             ("option", None if option is None else option[:OPTION_MAX]),
                             ("phone", phone)):
            object.__setattr__(self, field, value)


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
