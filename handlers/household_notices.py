"""Closing the loop with people: what the bot tells others about households, on its own.

* **Village heads** hear of each decision the commune takes about a household of their
  village — an exit registration recognised, "not yet" or withdrawn, a proposed change of
  status recognised or not — one message per decision, with the reason and who decided, and a
  button that opens the household. ("Under review" is not a decision: nobody is told.)
* **Officers** get a digest, never one message per item: at the calendar's ``send_time`` each
  morning, the officers nearest above a village (its commune's; the province's when the
  commune has none) hear how many new items wait in ``/duyet``, with a button that opens it.
  The digest is planned when the first new item arrives and follows the queue until it goes
  out: its figures change as items come and go, and it is dropped when nothing new is left.

Everything is planned in the outbox inside the message's own transaction (as announcements
and linking notices are), so it is sent once, at the channel's rate, never in the quiet hours.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from common.catalogue import t
from common.messages import Option, Outbound
from handlers.router import menu_option
from reports.poverty import status_label
from storage import areas
from storage import households as hh
from storage.areas import Area
from storage.clock import iso
from storage.outbox import Planned, create_campaign, revise_pending
from storage.progress import holders_at

if TYPE_CHECKING:
    from handlers.context import Context

PRIORITY = 5  # as reminders: after replies and linking notices, before announcements


def _area_ids(area: Area) -> list[int]:
    """The ids on an area's path, the root first, the area itself last."""
    return [int(x) for x in area.path.strip("/").split("/")]


# ---- village heads: one message per decision ---------------------------------------------


async def tell_heads(ctx: Context, village: Area, event: str, text: str, code: str) -> None:
    """Plan ``text`` for each head of ``village`` (except the person deciding), with a
    button that opens the household ``code``. ``event`` makes the campaign unique."""
    heads = [h for h in await holders_at(ctx.conn, ("village_head",), [village.id])
             if h.person_id != ctx.person.id]
    if not heads:
        return
    message = Outbound(text, (Option(t("notices.option.household"),
                                     menu_option("household", code)),), free_input=False)
    local = ctx.now.astimezone(ctx.config.timezone)
    await create_campaign(
        ctx.conn, key=f"household-news:{event}:{iso(ctx.now)}", kind="household",
        messages=[Planned(h.person_id, message) for h in heads],
        not_before=ctx.config.calendar.next_sending_time(local), at=ctx.now,
        area_id=village.id, title=event, priority=PRIORITY)


def decision_text(ctx: Context, *, kind: str, decision: str, village: Area,
                  household: hh.Household, before: str, after: str, reason: str,
                  recently_exited_until=None) -> str | None:
    """What a village head is told of a decision (None: nothing to tell)."""
    key = NEWS.get((kind, decision))
    if key is None:
        return None
    lines = [t(key, code=household.code, name=household.head_name, village=village.name,
               date=f"{ctx.today:%d/%m/%Y}", before=status_label(before),
               after=status_label(after))]
    if recently_exited_until is not None and decision == "recognised":
        lines.append(t("notices.recently_exited", until=f"{recently_exited_until:%d/%m/%Y}"))
    if decision in ("not_yet", "withdrawn", "rejected"):
        lines.append(t("notices.reason", reason=reason or t("notices.no_reason")))
    lines.append(t("notices.decided_by", name=ctx.person.full_name))
    return "\n".join(lines)


# Message keys, spelled out so the catalogue test sees every one of them.
NEWS = {
    ("reg", "recognised"): "notices.registration.recognised",
    ("reg", "not_yet"): "notices.registration.not_yet",
    ("reg", "withdrawn"): "notices.registration.withdrawn",
    ("asm", "recognised"): "notices.assessment.recognised",
    ("asm", "rejected"): "notices.assessment.rejected",
}


# ---- officers: a morning digest of what waits ----------------------------------------------


def next_digest_time(ctx: Context) -> datetime:
    """The next ``calendar.send_time`` after now, in local time (outside the quiet hours)."""
    cal = ctx.config.calendar
    local = ctx.now.astimezone(ctx.config.timezone)
    slot = datetime.combine(local.date(), cal.send_time, local.tzinfo)
    if slot <= local:
        slot += timedelta(days=1)
    return cal.next_sending_time(slot)


async def _nearest_officers(ctx: Context, village: Area) -> list[tuple[int, Area]]:
    """(person id, area) of the officers of the lowest area above ``village`` that has any."""
    holders = await holders_at(ctx.conn, ("officer",), _area_ids(village))
    if not holders:
        return []
    found: list[tuple[int, Area]] = []
    for holder in holders:
        area = await areas.get_area(ctx.conn, holder.area_id)
        if area is not None:
            found.append((holder.person_id, area))
    deepest = max(len(area.path) for _, area in found) if found else 0
    return [(pid, area) for pid, area in found if len(area.path) == deepest]


def digest_message(area: Area, waiting: hh.Waiting) -> Outbound:
    parts = []
    if waiting.new_registrations:
        parts.append(t("notices.digest.registrations", n=waiting.new_registrations))
    if waiting.new_assessments:
        parts.append(t("notices.digest.assessments", n=waiting.new_assessments))
    text = t("notices.digest", new=waiting.new, area=area.name, details=", ".join(parts),
             total=waiting.total)
    return Outbound(text, (Option(t("notices.option.review"), menu_option("review")),),
                    free_input=False)


async def queue_changed(ctx: Context, village: Area) -> None:
    """Something was added to or taken from the review queue of ``village``: plan, revise
    or drop the next digest of the officers above it."""
    slot = next_digest_time(ctx)
    since = slot - timedelta(days=1)  # what the previous digest already told
    for person_id, area in await _nearest_officers(ctx, village):
        key = f"review-digest:{person_id}:{slot:%Y-%m-%d}"
        waiting = await hh.waiting(ctx.conn, within=area, since=since)
        if not waiting.new:
            await revise_pending(ctx.conn, key, person_id, None, ctx.now)
            continue
        message = digest_message(area, waiting)
        if not await revise_pending(ctx.conn, key, person_id, message, ctx.now):
            await create_campaign(
                ctx.conn, key=key, kind="review", messages=[Planned(person_id, message)],
                not_before=slot, at=ctx.now, area_id=area.id, title=key, priority=PRIORITY)
