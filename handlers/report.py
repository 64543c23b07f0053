"""The monthly village report dialog: which village, which month, then the form.

Steps: ``pick_area`` (officers, or a head of several villages) → ``form`` (the engine), with a
detour to ``pick_period`` when the person wants another month. See ``report.mmd``.

A village's household list drives the report (its figures are the defaults, and a typed
figure that differs asks "are you sure?") only once it is complete: the head or an officer
said so in ``/ho``, or it holds as many households as the total reported (last month's, or
the one typed now). Until then the report says how many households the list holds.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from common.catalogue import t
from common.config import MonthlyReportConfig
from common.messages import Option, Outbound
from common.numbers import NumberError, format_count, parse_count
from common.text import fold
from handlers import menu
from handlers.forms.engine import FormEngine, Step
from handlers.forms.monthly import FROM_LIST, list_in_force, monthly_spec
from reports.periods import Month, default_month, parse_month
from storage import areas
from storage.areas import Area
from storage.dialogs import DialogState
from storage.households import household_list
from storage.reports import MONTHLY_FORM, current_report, save_report

if TYPE_CHECKING:
    from handlers.context import Answer, Context

MAX_AREA_OPTIONS = 30  # villages offered as a numbered choice; the rest are found by name
MAX_AREA_MATCHES = 1000  # villages counted per scope when a typed name matches many
# Number words typed where the figures belong ("/baocao muoi hai"): answered about figures.
NUMBER_WORDS = frozenset(
    "khong mot hai ba bon tu nam lam nham sau bay tam chin muoi tram nghin ngan trieu ty ti "
    "linh le ruoi dong".split()
)

Result = tuple[DialogState | None, list[Outbound]]


@lru_cache(maxsize=4)
def engine(cfg: MonthlyReportConfig) -> FormEngine:
    return FormEngine(monthly_spec(cfg))


# ---- starting ---------------------------------------------------------------------------


def _figure_shaped(word: str) -> bool:
    """True when ``word`` is meant as a figure: a number, or one badly written (``134,5``,
    ``-3``, ``12a``), never a village name."""
    try:
        parse_count(word)
        return True
    except NumberError as exc:
        return exc.key != "number.not_a_number" or fold(word)[:1].isdigit()


def _number_words(words: list[str]) -> bool:
    """True when the words are figures written in words (``mười hai``)."""
    return bool(words) and all(fold(w) in NUMBER_WORDS or _figure_shaped(w) for w in words)


async def start(ctx: Context, args: str) -> Result:
    """``/baocao [month] [figures… | village name]``."""
    tokens = args.split()
    period = None
    for size in (2, 1):
        if len(tokens) >= size and (found := parse_month(" ".join(tokens[:size]), ctx.today)):
            period, tokens = found, tokens[size:]
            break
    if tokens and _figure_shaped(tokens[0]):
        return await _for_own_village(ctx, period, tokens)
    for size in (2, 1):  # "/baocao Nà Khan 10/2026": the month may also come last
        if tokens and period is None and len(tokens) > size:
            found = parse_month(" ".join(tokens[-size:]), ctx.today)
            if found:
                period, tokens = found, tokens[:-size]
    if tokens:
        return await _choose_by_name(ctx, " ".join(tokens), period, [])
    return await _for_own_village(ctx, period, [])


async def _for_own_village(ctx: Context, period: Month | None, values: list[str]) -> Result:
    """The form for the person's village, or a choice among the villages they report for."""
    own = [r.area for r in ctx.person.roles
           if r.role == "village_head" and r.area.level == ctx.config.report_level]
    if len(own) == 1:
        return await begin(ctx, own[0], period, values)
    candidates = own or await _villages_in_scope(ctx)
    if len(candidates) == 1:
        return await begin(ctx, candidates[0], period, values)
    return await _pick(ctx, candidates, period, values)


async def _pick(ctx: Context, candidates: list[Area], period: Month | None,
                values: list[str], more: int = 0, at_least: bool = False) -> Result:
    """A numbered choice of villages; those beyond it are counted and found by name."""
    draft = {"period": period.key if period else None, "values": values,
             "choices": [a.id for a in candidates[:MAX_AREA_OPTIONS]],
             "more": more + max(0, len(candidates) - MAX_AREA_OPTIONS), "at_least": at_least}
    state = DialogState("report", "pick_area", draft)
    return state, await ask(ctx, state)


async def _villages_in_scope(ctx: Context) -> list[Area]:
    found: dict[int, Area] = {}
    for r in ctx.person.roles:
        if r.role in ("officer", "admin"):
            for area in await areas.subtree(ctx.conn, r.area, level=ctx.config.report_level):
                found[area.id] = area
    return sorted(found.values(), key=lambda a: a.path)


async def _villages_named(ctx: Context, query: str) -> tuple[list[Area], bool]:
    """The villages named like ``query`` this person may report for, exact names first; and
    whether a scope had more matches than were counted."""
    found: dict[int, Area] = {}
    capped = False
    for scope in ctx.person.scopes():
        matches = await areas.find_areas(ctx.conn, query, within=scope,
                                         level=ctx.config.report_level,
                                         limit=MAX_AREA_MATCHES)
        capped = capped or len(matches) >= MAX_AREA_MATCHES
        found.update((a.id, a) for a in matches if ctx.person.can_report_for(a))
    folded = fold(query)
    return sorted(found.values(), key=lambda a: (fold(a.name) != folded, a.path)), capped


async def _choose_by_name(
    ctx: Context, query: str, period: Month | None, values: list[str]
) -> Result:
    allowed, capped = await _villages_named(ctx, query)
    if not allowed:
        if not values and _number_words(query.split()):  # "/baocao muoi hai": figures
            return await _for_own_village(ctx, period, query.split())
        own = [r.area.name for r in ctx.person.roles if r.role == "village_head"]
        if own and not ctx.person.has_role("officer", "admin"):
            return None, [Outbound(t("report.only_own_village", village=", ".join(own)))]
        return None, [Outbound(t("report.area_not_found", query=query[:60]))]
    exact = fold(allowed[0].name) == fold(query)
    if len(allowed) == 1 or (exact and fold(allowed[1].name) != fold(query)):
        return await begin(ctx, allowed[0], period, values)
    return await _pick(ctx, allowed, period, values, at_least=capped)


def period_error(ctx: Context, area: Area, period: Month) -> str | None:
    """Why ``period`` cannot be filed now by this person, or None.

    A month's report is the village at the end of the month (its households "hiện nay") and
    what happened in it (exits, newly poor, support mobilised "trong tháng"); the calendar
    asks for it from three days before the 5th of the next month. So a village head files a
    month once it is over, from the 1st of the next month: filed on 3 December, a December
    report would miss most of the month, and it would silence the January reminders that ask
    for the real figures (only those who have not filed are reminded). Officers keep their
    rights: a month after its lock day, and the running month too (a paper report handed in
    at the commune's meeting); nobody files a month still to come.
    """
    current = Month.of(ctx.today)
    first = _first_day(period.next())
    if period > current:
        return t("report.future", period=period.label, first=first)
    officer = ctx.person.can_override_lock(area)
    if period == current and not officer:
        return t("report.not_over", period=period.label, first=first)
    lock = period.lock_date(ctx.config.monthly.lock_day)
    if ctx.today > lock and not officer:
        return t("report.locked", period=period.label, lock=f"{lock:%d/%m/%Y}")
    return None


def _first_day(month: Month) -> str:
    return f"01/{month.month:02d}/{month.year}"


async def begin(
    ctx: Context, area: Area, period: Month | None, values: list[str] | None = None
) -> Result:
    """Open the form for ``area`` and ``period`` (default: the sensible month)."""
    cfg = ctx.config.monthly
    period = period or default_month(ctx.today, cfg.previous_month_until_day)
    error = period_error(ctx, area, period)
    if error:
        return None, [Outbound(error)]
    current = await current_report(ctx.conn, area.id, MONTHLY_FORM, period.key)
    previous = await current_report(ctx.conn, area.id, MONTHLY_FORM, period.previous().key)
    source = current or previous
    draft = {
        "area_id": area.id,
        "area_name": area.name,
        "period": period.key,
        "title": t("report.title", period=period.label, area=area.name),
        "defaults": dict(source.data) if source else {},
        "previous": dict(previous.data) if previous else None,
        "version": current.version if current else 0,
        "reported_total": source.data.get("total") if source else None,
        # A new version of a month already filed: one tap keeps each figure filed.
        "hints": {k: "report.hint_filed" for k in current.data} if current else {},
    }
    intro = [t("report.intro", period=period.label, area=area.name)]
    listed = await household_list(ctx.conn, area.id, period.key)
    if listed.households:
        draft["listed"] = {**{k: listed.figures[k] for k in FROM_LIST},
                           "complete": listed.complete}
        intro.append(_list_intro(ctx, draft, listed))
    if current:
        intro.append(t("report.replaces", version=current.version,
                       name=current.submitted_by_name or "?",
                       at=f"{current.submitted_at.astimezone(ctx.config.timezone):%d/%m/%Y}"))
    elif previous is None and not values:
        intro.append(t("report.no_previous"))
    step = engine(cfg).start(draft, values or None)
    messages = _follow_list(engine(cfg), step)
    return DialogState("report", "form", step.draft), [Outbound("\n".join(intro))] + messages


def _list_intro(ctx: Context, draft: dict, listed) -> str:
    """What the report makes of the village's household list, and why."""
    n, reported = listed.households, draft["reported_total"]
    if list_in_force(draft["listed"], reported):
        draft["from_list"] = {k: draft["listed"][k] for k in FROM_LIST}
        if listed.complete:
            at = listed.marked_at.astimezone(ctx.config.timezone) if listed.marked_at else None
            return t("report.from_list_marked", n=format_count(n),
                     name=listed.marked_by_name or "?", at=f"{at:%d/%m/%Y}" if at else "?")
        return t("report.from_list_matches", n=format_count(n))
    if reported:
        return t("report.list_partial", n=format_count(n), total=format_count(int(reported)))
    return t("report.list_unconfirmed", n=format_count(n))


def _follow_list(form: FormEngine, step: Step) -> list[Outbound]:
    """The messages of ``step``, after the household list comes in or goes out of force
    because of the total just typed (the question then shows the right default)."""
    draft = step.draft
    listed, total = draft.get("listed"), draft["values"].get("total")
    if not listed or total is None or listed.get("complete"):
        return step.messages
    in_force = list_in_force(listed, total)
    if in_force == bool(draft.get("from_list")):
        return step.messages
    if in_force:
        draft["from_list"] = {k: listed[k] for k in FROM_LIST}
        note = t("report.list_now_used", n=format_count(int(listed["total"])))
    else:
        draft.pop("from_list", None)
        note = t("report.list_not_used", n=format_count(int(listed["total"])),
                 total=format_count(int(total)))
    messages = list(step.messages)
    if draft["mode"] == "fill" and messages:  # the question again, with its new default
        messages[-1] = form.ask(draft)
    return [Outbound(note)] + messages


# ---- the dialog -------------------------------------------------------------------------


async def ask(ctx: Context, state: DialogState) -> list[Outbound]:
    """The current question again."""
    draft = state.draft
    if state.step == "pick_area":
        options = await menu.area_choices(ctx.conn, draft["choices"])
        lines = [t("report.pick_area") if options else t("report.type_area")]
        if draft.get("more"):
            key = "report.more_areas_at_least" if draft.get("at_least") else "report.more_areas"
            lines.append(t(key, n=format_count(draft["more"])))
        # A numbered list: "2" picks the second village; a typed name is searched for.
        return [Outbound("\n".join(lines),
                         options + (Option(t("form.option.cancel"), "cancel"),),
                         free_input=False)]
    if state.step == "pick_period":
        current = Month.of(ctx.today)
        area = await areas.get_area(ctx.conn, draft["area_id"])
        months = [m for m in (current, current.previous(), current.previous().previous())
                  if period_error(ctx, area, m) is None]
        options = tuple(Option(t("report.option.month", period=m.label), f"period:{m.key}")
                        for m in months)
        return [Outbound(t("report.pick_period"),
                         options + (Option(t("form.option.cancel"), "cancel"),),
                         free_input=False)]
    return [engine(ctx.config.monthly).ask(draft)]


async def answer(ctx: Context, state: DialogState, reply: Answer) -> Result:
    if reply.action == "cancel":
        return None, [menu.main_menu(ctx, t("core.cancelled"))]
    if state.step == "pick_area":
        return await _on_pick_area(ctx, state, reply)
    if state.step == "pick_period":
        return await _on_pick_period(ctx, state, reply)
    form = engine(ctx.config.monthly)
    step = form.answer(state.draft, reply.text, reply.action)
    if step.cancelled:
        return None, [menu.main_menu(ctx, t("core.cancelled"))]
    if step.action == "period":
        state.step = "pick_period"
        return state, await ask(ctx, state)
    if step.submitted:
        return await _submit(ctx, state)
    state.draft = step.draft
    return state, _follow_list(form, step)


async def _on_pick_area(ctx: Context, state: DialogState, reply: Answer) -> Result:
    draft = state.draft
    period = Month.parse_key(draft["period"]) if draft.get("period") else None
    if reply.action and reply.action.startswith("area:"):
        area = await areas.get_area(ctx.conn, int(reply.action[5:]))
        if area is None or not ctx.person.can_report_for(area):
            return state, [Outbound(t("core.stale_button"))] + await ask(ctx, state)
        return await begin(ctx, area, period, draft.get("values"))
    if not reply.text.strip():
        return state, [Outbound(t("report.type_area"))]
    new_state, messages = await _choose_by_name(ctx, reply.text, period,
                                                draft.get("values") or [])
    if new_state is None and messages and len(messages) == 1:
        return state, messages + await ask(ctx, state)  # not found: stay on the question
    return new_state, messages


async def _on_pick_period(ctx: Context, state: DialogState, reply: Answer) -> Result:
    if reply.action and reply.action.startswith("period:"):
        period = Month.parse_key(reply.action[7:])
    else:
        period = parse_month(reply.text, ctx.today)
    if period is None:
        return state, [Outbound(t("report.period_expected"))] + await ask(ctx, state)
    area = await areas.get_area(ctx.conn, state.draft["area_id"])
    error = period_error(ctx, area, period)
    if error:
        return state, [Outbound(error)] + await ask(ctx, state)
    return await begin(ctx, area, period)


async def _submit(ctx: Context, state: DialogState) -> Result:
    """Save the report as a new version, checking rights and the lock once more."""
    draft = state.draft
    area = await areas.get_area(ctx.conn, draft["area_id"])
    period = Month.parse_key(draft["period"])
    if area is None or not ctx.person.can_report_for(area):
        return None, [menu.main_menu(ctx, t("report.not_allowed"))]
    error = period_error(ctx, area, period)
    if error:
        return None, [menu.main_menu(ctx, error)]
    spec = engine(ctx.config.monthly).spec
    data = {f.key: draft["values"].get(f.key) for f in spec.fields}
    data["note"] = data.get("note") or ""
    version = await save_report(
        ctx.conn, area_id=area.id, form=MONTHLY_FORM, period=period.key, data=data,
        actor=ctx.actor, via=ctx.inbound.channel, at=ctx.now,
    )
    done = t("report.saved", period=period.label, area=area.name, version=version)
    return None, [menu.main_menu(ctx, done)]
