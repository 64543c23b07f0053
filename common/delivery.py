"""One vocabulary of delivery errors for every channel, as in RapidPro courier.

Each adapter turns its messenger's errors into these five; the dispatcher acts on them and never
sees a messenger's own exception types:

- ``RecipientBlocked`` — the person blocked the bot or left: stop sending, mark them inactive;
  ``ChatNotFound``, one of its kind, when the messenger does not know the chat for this bot.
- ``Throttled`` — too many messages: wait ``retry_after`` seconds, then send again.
- ``Misconfigured`` — our fault (bad token, malformed request, unknown chat): do not retry, alert.
- ``Transient`` — the network or the messenger failed for now: retry later with a back-off.
- ``OutsideWindow`` — the messenger lets the bot write to a person only for a while after they
  last wrote (Zalo): not retried; another messenger of the person is tried, else the officer
  is told.
"""

from __future__ import annotations


class DeliveryError(Exception):
    """A message could not be delivered. ``retryable`` says whether sending again may work."""

    retryable: bool = False

    def __init__(self, message: str = "", *, channel: str = ""):
        super().__init__(message)
        self.message = message
        self.channel = channel


class RecipientBlocked(DeliveryError):
    """The recipient blocked the bot, deleted their account, or the bot was removed."""

    retryable = False


class ChatNotFound(RecipientBlocked):
    """The messenger knows no such chat for this bot (Telegram «chat not found», Zalo
    «chat_id is invalid»): the person deleted their account, or never wrote to this bot (its
    token changed). Handled as a block (another messenger is tried, the officer told, writing
    to the bot again undoes it); the officer hears which it was."""


class Throttled(DeliveryError):
    """The messenger asks us to slow down; sending again after ``retry_after`` seconds is fine."""

    retryable = True

    def __init__(self, retry_after: float, message: str = "", *, channel: str = ""):
        super().__init__(message or f"throttled, retry after {retry_after:g} s", channel=channel)
        self.retry_after = float(retry_after)


class Misconfigured(DeliveryError):
    """The request can never succeed as it is: wrong token, bad request, unknown chat."""

    retryable = False


class Transient(DeliveryError):
    """A network failure or a server error; the same message may go through later."""

    retryable = True


class OutsideWindow(DeliveryError):
    """The messenger refuses to deliver because the person has not written for too long."""

    retryable = False
