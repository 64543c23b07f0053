"""Is a village's household list complete? Asked and answered in ``/ho`` (issue 11, item 4).

A list drives the village's monthly report (its figures become the defaults, and a typed
figure that differs asks "are you sure?") only once it is complete: when the village's head,
or an officer above it, says so here — recorded with who and when, and audited — or when it
holds as many households as the total reported (``handlers/report.py``).

Steps of the ``household`` dialog, handed over by ``handlers/households.py``: ``list_pick``
(several villages) → ``list`` (how many households the list holds, against the total
reported; mark it complete, or not any more) → ``list_confirm`` → the dialog ends, saying
what was recorded.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from common.catalogue import t
from common.messages import Option, Outbound
from common.numbers import format_count
from common.text import fold, visible
from handlers import menu
from reports.periods import Month
from storage import areas
from storage.areas import Area
from storage.dialogs import DialogState
from storage.households import household_list, list_sizes, mark_household_list
from storage.reports import MONTHLY_FORM, current_report

if TYPE_CHECKING:
    from handlers.context import Answer, Context

Result = tuple[DialogState | None, list[Outbound]]
STEPS = ("list_pick", "list", "list_confirm")
PAGE = 10  # villages offered at once; «Xem tiếp» shows the next ones, a name can be typed
REPORT_MONTHS = 3  # months looked back for the total reported, to set the list against


def _cancel() -> Option:
    return Option(t("form.option.cancel"), "cancel", ("huy",))


def _back() -> Option:
    return Option(t("form.option.back"), "back", ("quay lai",))


def _done() -> Option:
    """Leaves a view where nothing waits to be saved (the action is ``cancel``)."""
    return Option(t("households.option.done"), "cancel", ("xong",))


async def place(ctx: Context, village_id: int, cache: dict[int, str] | None = None) -> str:
    """«Bản Nà Khan» — or «Bản Nà Khan, Xã Mường Tè» when the person's area is above the
    commune (a province's officer: village names repeat from one commune to the next)."""
    cache = {} if cache is None else cache
    if village_id not in cache:
        village = await areas.get_area(ctx.conn, village_id)
        if village is None:
            cache[village_id] = "?"
        elif village.parent_id is None or \
                village.parent_id in {r.area.id for r in ctx.person.roles}:
            cache[village_id] = village.name
        else:
            parent = await areas.get_area(ctx.conn, village.parent_id)
            cache[village_id] = t("households.place", village=village.name,
                                  commune=parent.name if parent else "?")
    return cache[village_id]


def name_key(name: str) -> tuple:
    """Sorts names as people count: «Tổ dân phố 2» before «Tổ dân phố 10»."""
    # Text and numbers alternate from a text part (maybe empty), so parts always compare.
    return tuple(int(part) if i % 2 else part
                 for i, part in enumerate(re.split(r"(\d+)", fold(name))))


async def _villages(ctx: Context) -> list[Area]:
    """The villages whose list this person may mark: their own, or those under their area."""
    level = ctx.config.report_level
    found: dict[int, Area] = {}
    for r in ctx.person.roles:
        if r.role == "village_head" and r.area.level == level:
            found[r.area.id] = r.area
        elif r.role in ("officer", "admin"):
            found.update((a.id, a) for a in await areas.subtree(ctx.conn, r.area, level=level))
    return sorted(found.values(), key=lambda a: a.path)


async def start(ctx: Context, state: DialogState) -> Result:
    """Shows the list of the person's village, or asks which village."""
    villages = await _villages(ctx)
    if len(villages) == 1:
        return await _show(ctx, state, villages[0].id)
    if not villages:
        return state, [Outbound(t("households.list.no_village"))]
    return await _pick(ctx, state, villages)


async def _pick(ctx: Context, state: DialogState, villages: list[Area],
                query: str = "") -> Result:
    """Which village? Those with a household list first, then the others, each by name;
    paged, so every village can be reached (or typed)."""
    sizes = await list_sizes(ctx.conn, [a.id for a in villages])
    ordered = sorted(villages, key=lambda a: (a.id not in sizes, name_key(a.name), a.path))
    state.step = "list_pick"
    state.draft = {"villages": [a.id for a in ordered], "page": 0,
                   "listed": sum(1 for a in villages if sizes.get(a.id, (0,))[0]),
                   "complete": sum(1 for a in villages if sizes.get(a.id, (0, False))[1]),
                   "query": query[:40]}
    return state, await ask(ctx, state)


async def _show(ctx: Context, state: DialogState, village_id: int,
                said: str | None = None) -> Result:
    state.step, state.draft = "list", {"village_id": village_id}
    return state, ([Outbound(said)] if said else []) + await ask(ctx, state)


async def _reported_total(ctx: Context, village_id: int) -> int | None:
    """The total of households in the village's latest monthly report of the last
    ``REPORT_MONTHS`` months (an older figure says little about the list)."""
    period = Month.of(ctx.today)
    for _ in range(REPORT_MONTHS):
        report = await current_report(ctx.conn, village_id, MONTHLY_FORM, period.key)
        if report is not None and report.data.get("total") is not None:
            return int(report.data["total"])
        period = period.previous()
    return None


async def _village(ctx: Context, village_id: int) -> Area | None:
    """The village, if this person may mark its list (its head, or an officer above it)."""
    village = await areas.get_area(ctx.conn, village_id)
    return village if village is not None and ctx.person.can_report_for(village) else None


async def ask(ctx: Context, state: DialogState) -> list[Outbound]:
    """The current question again."""
    draft = state.draft
    if state.step == "list_pick":
        return [await _ask_village(ctx, draft)]
    village = await _village(ctx, draft["village_id"])
    if village is None:
        return [Outbound(t("households.gone"))]
    listed = await household_list(ctx.conn, village.id, Month.of(ctx.today).key)
    n = format_count(listed.households)
    if state.step == "list_confirm":
        lines = [t("households.list.confirm", village=village.name, n=n,
                   poor=format_count(listed.figures["poor"]),
                   near_poor=format_count(listed.figures["near_poor"]))]
        reported = await _reported_total(ctx, village.id)
        if reported is not None and reported != listed.households:
            lines.append(t("households.list.confirm_differs", n=n, total=format_count(reported)))
        return [Outbound("\n".join(lines),
                         (Option(t("households.list.option.confirm"), "confirm"), _back(),
                          _cancel()), free_input=False)]
    if listed.complete:
        at = listed.marked_at.astimezone(ctx.config.timezone)
        lines = [t("households.list.complete", village=village.name, n=n,
                   name=listed.marked_by_name or "?", at=f"{at:%d/%m/%Y}")]
        options = [Option(t("households.list.option.unmark"), "unmark")]
    else:
        reported = await _reported_total(ctx, village.id)
        if reported is not None and reported == listed.households and reported:
            lines = [t("households.list.matches", village=village.name, n=n)]
        elif reported is not None:
            lines = [t("households.list.partial", village=village.name, n=n,
                       total=format_count(reported))]
        else:
            lines = [t("households.list.unconfirmed", village=village.name, n=n)]
        if listed.households:
            lines.append(t("households.list.explain"))
            options = [Option(t("households.list.option.mark"), "mark")]
        else:
            lines.append(t("households.list.empty"))
            options = []
    return [Outbound("\n".join(lines), (*options, _back(), _done()), free_input=False)]


async def _ask_village(ctx: Context, draft: dict) -> Outbound:
    every = draft["villages"]
    pages = max(1, -(-len(every) // PAGE))
    page = min(draft.get("page", 0), pages - 1)
    shown = every[page * PAGE:(page + 1) * PAGE]
    sizes = await list_sizes(ctx.conn, shown)
    cache: dict[int, str] = {}
    options = []
    for area_id in shown:
        n, complete = sizes.get(area_id, (0, False))
        key = ("households.list.label_complete" if complete else
               "households.list.label_partial" if n else "households.list.label_empty")
        options.append(Option(t(key, village=await place(ctx, area_id, cache),
                                n=format_count(n)), f"lv:{area_id}"))
    lines = [t("households.list.pick"),
             t("households.list.pick_matches" if draft.get("query") else
               "households.list.pick_counts", query=draft.get("query", ""),
               n=format_count(len(every)),
               listed=format_count(draft.get("listed", 0)),
               complete=format_count(draft.get("complete", 0)))]
    if pages > 1:
        first = page * PAGE + 1
        lines.append(t("households.list.pick_page", first=first, last=first + len(shown) - 1,
                       n=len(every)))
        rest = len(every) - (page + 1) * PAGE
        options.append(Option(t("households.list.option.more", n=rest), "more", ("xem tiep",))
                       if rest > 0 else Option(t("households.option.first"), "first"))
    return Outbound("\n".join(lines), (*options, _back(), _cancel()), free_input=False)


async def _closed(ctx: Context, state: DialogState, said: str) -> Result:
    """The list marked (or not any more): said, with the list as it is now; the dialog ends."""
    view = await ask(ctx, state)
    return None, [menu.main_menu(ctx, "\n".join((said, view[0].text.splitlines()[0])))]


async def answer(ctx: Context, state: DialogState, reply: Answer,
                 back: Callable[[Context, DialogState], Awaitable[list[Outbound]]]) -> Result:
    """Applies an answer in one of ``STEPS``; ``back`` asks the household dialog's first
    question (the search) again."""
    if state.step == "list_pick":
        return await _on_pick(ctx, state, reply, back)
    if reply.action == "back" and state.step == "list_confirm":
        return await _show(ctx, state, state.draft["village_id"])
    if reply.action == "back":
        state.step, state.draft = "find", {"intent": None}
        return state, await back(ctx, state)
    village = await _village(ctx, state.draft["village_id"])
    if village is None:
        return None, [Outbound(t("households.gone"))]
    if state.step == "list" and reply.action == "mark":
        state.step = "list_confirm"
        return state, await ask(ctx, state)
    period = Month.of(ctx.today).key
    if state.step == "list" and reply.action == "unmark":
        await mark_household_list(ctx.conn, village.id, complete=False, actor=ctx.actor,
                                  at=ctx.now, period=period)
        return await _closed(ctx, state, t("households.list.unmarked", village=village.name))
    if state.step == "list_confirm" and reply.action == "confirm":
        listed = await household_list(ctx.conn, village.id, period)
        if not listed.households:
            return await _show(ctx, state, village.id)
        marked = await mark_household_list(ctx.conn, village.id, complete=True,
                                           actor=ctx.actor, at=ctx.now, period=period)
        state.step = "list"
        return await _closed(ctx, state, t("households.list.marked", village=village.name,
                                           n=format_count(marked.households)))
    return state, [Outbound(t("households.choose_action"))] + await ask(ctx, state)


async def _on_pick(ctx: Context, state: DialogState, reply: Answer, back) -> Result:
    """A village chosen from the list, or typed by name."""
    if reply.action == "back":
        state.step, state.draft = "find", {"intent": None}
        return state, await back(ctx, state)
    if reply.action in ("more", "first"):
        state.draft["page"] = state.draft.get("page", 0) + 1 if reply.action == "more" else 0
        return state, await ask(ctx, state)
    if reply.action and reply.action.startswith("lv:") and reply.action[3:].isdecimal():
        if await _village(ctx, int(reply.action[3:])) is None:
            return state, [Outbound(t("core.stale_button"))] + await ask(ctx, state)
        return await _show(ctx, state, int(reply.action[3:]))
    typed = fold(reply.text)
    if not typed:  # nothing visible typed: the question again
        return state, await ask(ctx, state)
    matches = [a for a in await _villages(ctx) if typed in fold(a.name)]
    if not matches:
        return state, [Outbound(t("households.list.not_found",
                                  query=visible(reply.text)[:40]))] + await ask(ctx, state)
    exact = [a for a in matches if fold(a.name) == typed]
    if len(matches) == 1 or len(exact) == 1:
        return await _show(ctx, state, (exact or matches)[0].id)
    return await _pick(ctx, state, matches, visible(reply.text))
