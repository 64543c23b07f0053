"""Planning: calendar events become campaigns in the outbox; nothing here sends anything.

:meth:`Planner.tick` looks at the events whose time has come since the last tick (the first
tick after start-up also looks back, so a time missed while the bot was down is caught up),
skips those that have expired (a later event of the same series is due, or the window is
over), and plans each remaining one as a campaign with one message per recipient. A campaign
is unique by the event's key, so a tick run twice, or a crash in the middle of planning, never
plans a message twice. Each event is planned in its own transaction.

Recipients (DOMAIN §1, §6):

* ``remind`` — the people who file the report and have not: village heads of the villages
  without it (or the commune officers of communes without theirs). A person with several
  villages, or several roles, gets one message listing them all.
* ``escalate`` — each commune officer gets the list of their villages still missing (for the
  communes' own reports, the province officers get the communes still missing).
* ``digest`` — officers above the communes get each commune's completeness.
* ``notice`` — everyone with a role in the calendar's areas.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from common.catalogue import t
from common.config import Config
from common.messages import Option, Outbound
from handlers.campaigns import (
    MAX_LISTED,
    PRIORITY,
    by_name,
    due_phrase,
    full_list_option,
    late_name,
    listed,
    remind_again_option,
    report_name,
    start_option,
    who_files,
)
from reports.calendar import (
    ANNUAL_REVIEW,
    COMMUNE,
    ESCALATE,
    NOTICE,
    PEAK_MONTH,
    REMIND,
    VILLAGE,
    Calendar,
    Event,
    calendars,
    events_between,
)
from reports.configured import governing, override_paths
from storage import areas as area_store
from storage.areas import Area
from storage.db import Database
from storage.meta import meta_group, set_meta
from storage.outbox import Planned, create_campaign
from storage.progress import filed_areas, role_holders

log = logging.getLogger(__name__)

PLANNED_UNTIL = "calendar.planned_until"
# How far back the very first tick looks (events older than this have expired anyway).
FIRST_LOOK_BACK = timedelta(days=45)
REMIND_KEYS = {VILLAGE: "calendar.remind.village", COMMUNE: "calendar.remind.commune"}
ESCALATE_KEYS = {VILLAGE: "calendar.escalate.village", COMMUNE: "calendar.escalate.commune"}
NOTICE_KEYS = {PEAK_MONTH: "calendar.notice.peak_month",
               ANNUAL_REVIEW: "calendar.notice.annual_review"}


@dataclass
class Tree:
    """The areas, and which calendar governs each (the deepest override containing it)."""

    by_id: dict[int, Area]
    villages: list[Area]
    communes: list[Area]
    calendar_of: dict[int, int]


class Planner:
    def __init__(self, db: Database, config: Config,
                 clock: Callable[[], datetime] | None = None):
        self.db = db
        self.config = config
        self.clock = clock or (lambda: datetime.now(UTC))
        self.override_paths: list[str | None] = [None]  # per calendar index; resolved later
        self.resolved = False
        self._since: datetime | None = None  # planned until (stored in meta for restarts)

    # ---- start-up -----------------------------------------------------------------------

    async def resolve(self) -> None:
        """Find the area of every ``[[calendar.overrides]]``; ConfigError naming the setting
        when one is unknown or ambiguous."""
        async with self.db.read() as conn:
            self.override_paths = await override_paths(conn, self.config)
        self.resolved = True

    async def tree(self, conn) -> Tree:
        everything = await area_store.subtree(conn, None)
        by_id = {a.id: a for a in everything}
        villages = [a for a in everything if a.level == self.config.report_level]
        commune_ids = sorted({v.parent_id for v in villages if v.parent_id in by_id},
                             key=lambda i: by_id[i].path)
        communes = [by_id[i] for i in commune_ids]
        calendar_of = {a.id: governing(a, self.override_paths) for a in (*villages, *communes)}
        return Tree(by_id, villages, communes, calendar_of)

    # ---- the tick -----------------------------------------------------------------------

    async def tick(self) -> list[int]:
        """Plan every event due since the last tick and not expired; the campaigns planned."""
        if not self.resolved:
            await self.resolve()
        now = self.clock()
        if self._since is None:
            async with self.db.read() as conn:
                stored = (await meta_group(conn, PLANNED_UNTIL) or {}).get(PLANNED_UNTIL)
            self._since = datetime.fromisoformat(stored) if stored else now - FIRST_LOOK_BACK
        events = events_between(self.config.calendar, self.config.timezone, self._since, now)
        if not events:
            return []  # nothing to remember either: the next tick looks from the same point
        planned: list[int] = []
        for event in events:
            if now >= event.expires:
                log.info("calendar event %s expired before it could be sent", event.key)
                continue
            campaign = await self.plan_event(event, now)
            if campaign is not None:
                planned.append(campaign)
        async with self.db.write() as conn:
            await set_meta(conn, PLANNED_UNTIL, now.astimezone(UTC).isoformat())
        self._since = now
        return planned

    async def plan_event(self, event: Event, now: datetime) -> int | None:
        """Plan one event as a campaign (None when it was planned before)."""
        async with self.db.write() as conn:
            tree = await self.tree(conn)
            messages = await self._messages(conn, tree, event, now)
            not_before = self.config.calendar.next_sending_time(
                max(now, event.at).astimezone(self.config.timezone))
            campaign = await create_campaign(
                conn, key=event.key, kind=event.kind, messages=messages,
                not_before=not_before, at=now, form=event.form, period=event.period,
                title=event.key, priority=PRIORITY[event.kind])
        if campaign is not None:
            log.info("planned %s: %d messages", event.key, len(messages))
        return campaign

    async def _messages(self, conn, tree: Tree, event: Event, now: datetime
                        ) -> list[Planned]:
        today = now.astimezone(self.config.timezone).date()
        if event.kind == NOTICE:
            return await self._notice(conn, tree, event)
        level_areas = tree.villages if event.level == VILLAGE else tree.communes
        mine = [a for a in level_areas if tree.calendar_of.get(a.id) == event.calendar]
        if not mine:
            return []
        filed = await filed_areas(conn, event.form, event.period, (a.id for a in mine))
        missing = [a for a in mine if a.id not in filed]
        if event.kind == REMIND:
            return await self._remind(conn, event, missing, today)
        if event.kind == ESCALATE:
            return await self._escalate(conn, tree, event, mine, missing, today)
        return await self._digest(conn, tree, event, mine, filed, today)

    async def _remind(self, conn, event: Event, missing: list[Area], today: date
                      ) -> list[Planned]:
        roles = ("village_head",) if event.level == VILLAGE else ("officer",)
        wanted = {a.id: a for a in missing}
        by_person: dict[int, list[Area]] = {}
        for holder in await role_holders(conn, roles):
            if holder.area_id in wanted:
                by_person.setdefault(holder.person_id, []).append(wanted[holder.area_id])
        out = []
        for person_id, own in by_person.items():
            text = t(REMIND_KEYS[event.level], report=report_name(event.form,
                                                                          event.period),
                     areas=", ".join(a.name for a in own), due=due_phrase(event.due, today))
            area = own[0] if len(own) == 1 and event.level == COMMUNE else None
            out.append(Planned(person_id, Outbound(text, (start_option(event.form,
                                                                       event.period, area),),
                                                   free_input=False),
                               {"form": event.form, "period": event.period,
                                "areas": [a.id for a in own]}))
        return out

    async def _escalate(self, conn, tree: Tree, event: Event, mine: list[Area],
                        missing: list[Area], today: date) -> list[Planned]:
        """Each officer: the areas still missing among those directly under their area, with
        who heads each, and one tap to remind them again (and to see the whole list, when it
        is longer than a message shows)."""
        report = report_name(event.form, event.period)
        due = f"{event.due:%d/%m/%Y}"
        heads = await who_files(conn, event.level)
        missing_ids = {a.id for a in missing}
        by_person: dict[int, list[str]] = {}
        buttons: dict[int, list[tuple[Area, int]]] = {}
        for holder in await role_holders(conn, ("officer",)):
            scope = tree.by_id.get(holder.area_id)
            if scope is None:
                continue
            if event.level == VILLAGE:  # commune officers: their villages
                under = [a for a in mine if a.parent_id == scope.id]
            else:  # officers above the communes: the communes under them
                under = [a for a in mine if scope.contains(a) and a.id != scope.id]
            if not under:
                continue
            late = by_name(a for a in under if a.id in missing_ids)
            key = ESCALATE_KEYS[event.level] if late else "calendar.escalate.none"
            text = t(key, report=report, due=due, area=scope.name, late=len(late),
                     total=len(under),
                     names=listed([late_name(a, heads, event.level) for a in late],
                                  event.level))
            by_person.setdefault(holder.person_id, []).append(text)
            if late:
                buttons.setdefault(holder.person_id, []).append((scope, len(late)))
        out = []
        for person_id, texts in by_person.items():
            scopes = buttons.get(person_id, [])
            options: list[Option] = []
            for scope, late in scopes:
                detail = scope.name if len(scopes) > 1 else ""
                options.append(remind_again_option(event.form, event.period, event.level,
                                                   scope, late, detail))
                if late > MAX_LISTED:
                    options.append(full_list_option(event.form, event.period, event.level,
                                                    scope, late, detail))
            out.append(Planned(person_id, Outbound("\n\n".join(texts), tuple(options),
                                                   free_input=False)))
        return out

    async def _digest(self, conn, tree: Tree, event: Event, mine: list[Area],
                      filed: set[int], today: date) -> list[Planned]:
        """Officers above the communes: each commune's villages filed, and the total."""
        report = report_name(event.form, event.period)
        commune_ids = {c.id for c in tree.communes}
        out = []
        seen: set[int] = set()
        for holder in await role_holders(conn, ("officer",)):
            scope = tree.by_id.get(holder.area_id)
            if scope is None or scope.id in commune_ids or holder.person_id in seen:
                continue
            under = [v for v in mine if scope.contains(v)]
            if not under or not any(scope.contains(c) for c in tree.communes):
                continue
            lines = []
            for commune in tree.communes:
                villages = [v for v in under if v.parent_id == commune.id]
                if not villages:
                    continue
                done = sum(1 for v in villages if v.id in filed)
                lines.append(t("calendar.digest.line", area=commune.name, filed=done,
                               total=len(villages),
                               mark="✅" if done == len(villages) else "").rstrip())
            total_done = sum(1 for v in under if v.id in filed)
            text = t("calendar.digest", report=report, due=f"{event.due:%d/%m/%Y}",
                     area=scope.name, filed=total_done, total=len(under),
                     lines="\n".join(lines))
            seen.add(holder.person_id)
            out.append(Planned(holder.person_id, Outbound(text)))
        return out

    async def _notice(self, conn, tree: Tree, event: Event) -> list[Planned]:
        cal: Calendar = calendars(self.config.calendar)[event.calendar]
        window = getattr(cal, event.form)
        year = int(event.period)
        text = t(NOTICE_KEYS[event.form], start=f"{window.start.in_year(year):%d/%m}",
                 end=f"{window.end.in_year(year):%d/%m/%Y}")
        # The calendar governs these villages and communes, and so concerns the areas above.
        concerned: set[int] = set()
        for area_id, index in tree.calendar_of.items():
            if index == event.calendar:
                concerned.update(int(x) for x in tree.by_id[area_id].path.strip("/").split("/"))
        people: dict[int, Planned] = {}
        for holder in await role_holders(conn, ("village_head", "officer")):
            if holder.area_id in concerned and holder.person_id not in people:
                people[holder.person_id] = Planned(holder.person_id, Outbound(text))
        return list(people.values())
