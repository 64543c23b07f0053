"""The 6-month and yearly movement reports: which area, which year, the form, and for the
yearly report the nominations for commendation.

Steps: ``pick_area`` (several possible areas) → ``form`` (the engine) → for the yearly report,
``nominations`` (a loop: add a household or a person with ``nominee`` → ``nominee_pick`` when
several households match → ``reason``; or remove one with ``remove``) → back to ``form``, whose
summary lists the nominations → "Gửi". See ``movement.mmd``.

Village heads file for their own village; officers and admins for any village or commune in
their area (a commune officer's own commune by default).
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING

from common.catalogue import t
from common.messages import Option, Outbound
from common.numbers import format_money
from common.text import fold
from handlers import menu
from handlers.forms.engine import FormEngine
from handlers.forms.movement import SPECS, TEXT_FIELDS
from storage import areas
from storage.areas import Area
from storage.dialogs import DialogState
from storage.households import find_households, has_household_list, normalise_code
from storage.reports import (
    HALF_YEAR_FORM,
    YEARLY_FORM,
    current_report,
    movement_period,
    movement_support_total,
    save_report,
)

if TYPE_CHECKING:
    from handlers.context import Answer, Context

Result = tuple[DialogState | None, list[Outbound]]
DIALOG = "movement"
MAX_AREA_OPTIONS = 30
MAX_NOMINATIONS = 20
NAME_MAX = 100
REASON_MAX = 300
MAX_HOUSEHOLD_MATCHES = 8
# (month, day) from which a year's report may be filed; before it, last year's is in season.
OPENS = {HALF_YEAR_FORM: (5, 1), YEARLY_FORM: (10, 1)}
REPORT_NAMES = {HALF_YEAR_FORM: "movement.report.half_year", YEARLY_FORM: "movement.report.yearly"}
KINDS = {"household": "movement.kind.household", "person": "movement.kind.person"}
ASK_NAME = {"household": "movement.ask_name.household", "person": "movement.ask_name.person"}
_YEAR = re.compile(r"^\d{4}$")
_YEAR_WORDS = ("nam", "năm")


def help_line() -> str:
    """The help menu's line about /baocao6thang and /baocaonam."""
    return t("help.movement")


@lru_cache(maxsize=2)
def engine(form: str) -> FormEngine:
    return FormEngine(SPECS[form])


# ---- years ------------------------------------------------------------------------------


def opens_on(form: str, year: int) -> date:
    """The first day on which the ``form`` report of ``year`` may be filed."""
    month, day = OPENS[form]
    return date(year, month, day)


def accepted_years(form: str, today: date) -> list[int]:
    """The years whose ``form`` report may be filed today, newest first."""
    return [y for y in (today.year, today.year - 1) if opens_on(form, y) <= today]


def default_year(form: str, today: date) -> int:
    """The year whose ``form`` report is in season today."""
    return accepted_years(form, today)[0]


def report_label(form: str, year: int) -> str:
    """``6 tháng đầu năm 2026`` or ``năm 2026``; messages put "báo cáo" before it."""
    return t(REPORT_NAMES[form], year=year)


def year_error(form: str, year: int, today: date) -> str | None:
    """Why the ``form`` report of ``year`` cannot be filed today, or None."""
    accepted = accepted_years(form, today)
    if year in accepted:
        return None
    years = ", ".join(str(y) for y in accepted)
    if year == today.year:
        opens = opens_on(form, year)
        return t("movement.year_not_open", report=report_label(form, year),
                 opens=f"{opens:%d/%m/%Y}", years=years)
    return t("movement.year_not_accepted", report=report_label(form, year), years=years)


def split_year(args: str) -> tuple[int | None, str]:
    """A year typed first or last (``2025``, ``năm 2025``) and the rest of the arguments."""
    tokens = args.split()
    if tokens and _YEAR.match(tokens[0]):
        return int(tokens[0]), " ".join(tokens[1:])
    if len(tokens) >= 2 and tokens[0].lower() in _YEAR_WORDS and _YEAR.match(tokens[1]):
        return int(tokens[1]), " ".join(tokens[2:])
    if len(tokens) >= 2 and _YEAR.match(tokens[-1]):
        rest = tokens[:-1]
        if len(rest) >= 2 and rest[-1].lower() in _YEAR_WORDS:
            rest = rest[:-1]
        return int(tokens[-1]), " ".join(rest)
    return None, " ".join(tokens)


# ---- areas ------------------------------------------------------------------------------


def filing_levels(ctx: Context) -> tuple[str, ...]:
    """The levels that file movement reports: villages and the level right above (communes)."""
    keys = ctx.config.level_keys()
    level = ctx.config.report_level
    above = keys[keys.index(level) - 1] if keys.index(level) > 0 else None
    return (level, above) if above else (level,)


def may_file_for(ctx: Context, area: Area) -> bool:
    """True when this person may file a movement report for ``area``."""
    return area.level in filing_levels(ctx) and ctx.person.can_report_for(area)


def _own_areas(ctx: Context) -> list[Area]:
    """The areas the person files for by role: a head's village, an officer's commune."""
    found = {r.area.id: r.area for r in ctx.person.roles
             if r.role in ("village_head", "officer", "admin") and may_file_for(ctx, r.area)}
    return sorted(found.values(), key=lambda a: a.path)


async def _areas_in_scope(ctx: Context) -> list[Area]:
    """The communes (the upper filing level) under an officer's or admin's wider area."""
    level = filing_levels(ctx)[-1]
    found: dict[int, Area] = {}
    for r in ctx.person.roles:
        if r.role in ("officer", "admin"):
            for area in await areas.subtree(ctx.conn, r.area, level=level):
                found[area.id] = area
    return sorted(found.values(), key=lambda a: a.path)


async def _areas_named(ctx: Context, query: str) -> list[Area]:
    """Areas named like ``query`` that this person may file for (searched in their scopes)."""
    found: dict[int, Area] = {}
    for scope in ctx.person.scopes():
        for area in await areas.find_areas(ctx.conn, query, within=scope, limit=50):
            if may_file_for(ctx, area):
                found[area.id] = area
    folded = fold(query)
    return sorted(found.values(), key=lambda a: (fold(a.name) != folded, a.path))


# ---- starting ---------------------------------------------------------------------------


async def start(ctx: Context, args: str, kind: str) -> Result:
    """``/baocao6thang [năm] [tên thôn, xã]`` and ``/baocaonam [năm] [tên thôn, xã]``."""
    form = kind
    year, query = split_year(args)
    if year is not None:
        error = year_error(form, year, ctx.today)
        if error:
            return None, [Outbound(error)]
    if query:
        return await _choose_by_name(ctx, form, year, query)
    candidates = _own_areas(ctx) or await _areas_in_scope(ctx)
    if len(candidates) == 1:
        return await begin(ctx, form, candidates[0], year)
    if not candidates and not ctx.person.has_role("officer", "admin"):
        return None, [Outbound(t("movement.no_area"))]
    choices = [a.id for a in candidates] if len(candidates) <= MAX_AREA_OPTIONS else []
    state = DialogState(DIALOG, "pick_area", {"form": form, "year": year, "choices": choices})
    return state, await ask(ctx, state)


async def _choose_by_name(ctx: Context, form: str, year: int | None, query: str) -> Result:
    """The area typed by name: straight to the form, a numbered choice, or a refusal."""
    allowed = await _areas_named(ctx, query)
    if not allowed:
        own = [r.area.name for r in ctx.person.roles if r.role == "village_head"]
        if own and not ctx.person.has_role("officer", "admin"):
            return None, [Outbound(t("movement.only_own_village", village=", ".join(own)))]
        return None, [Outbound(t("movement.area_not_found", query=query[:60]))]
    if len(allowed) == 1 or fold(allowed[0].name) == fold(query) != fold(allowed[1].name):
        return await begin(ctx, form, allowed[0], year)
    draft = {"form": form, "year": year, "choices": [a.id for a in allowed[:MAX_AREA_OPTIONS]]}
    state = DialogState(DIALOG, "pick_area", draft)
    return state, await ask(ctx, state)


async def begin(ctx: Context, form: str, area: Area, year: int | None) -> Result:
    """Open the form for ``area`` and ``year`` (default: the year in season)."""
    year = year or default_year(form, ctx.today)
    error = year_error(form, year, ctx.today)
    if error:
        return None, [Outbound(error)]
    period = movement_period(form, year)
    current = await current_report(ctx.conn, area.id, form, period)
    total = await movement_support_total(ctx.conn, area, form, year)
    label = report_label(form, year)
    draft = {
        "form": form, "year": year, "period": period,
        "area_id": area.id, "area_name": area.name,
        "title": t("movement.title", report=label, area=area.name),
        "version": current.version if current else 0,
        "nominations": [], "nominated": False,
    }
    intro = [t("movement.intro", report=label, area=area.name)]
    if current:
        draft["defaults"] = {f.key: current.data.get(f.key) for f in engine(form).spec.fields}
        draft["hints"] = {f.key: "movement.hint.filed" for f in engine(form).spec.fields}
        draft["nominations"] = list(current.data.get("nominations") or [])[:MAX_NOMINATIONS]
        intro.append(t("movement.replaces", version=current.version,
                       name=current.submitted_by_name or "?",
                       at=f"{current.submitted_at.astimezone(ctx.config.timezone):%d/%m/%Y}"))
        if current.data.get("support_vnd") != total:
            intro.append(t("movement.support_now", total=format_money(total)))
    else:
        village = area.level == ctx.config.report_level
        draft["defaults"] = {"support_vnd": total}
        draft["hints"] = {"support_vnd": "movement.hint.monthly_sum" if village
                          else "movement.hint.monthly_sum_villages"}
    step = engine(form).start(draft)
    return DialogState(DIALOG, "form", step.draft), [Outbound("\n".join(intro))] + step.messages


# ---- asking -----------------------------------------------------------------------------


def _cancel() -> Option:
    return Option(t("form.option.cancel"), "cancel", ("huy",))


def _back() -> Option:
    return Option(t("movement.option.back"), "back", ("quay lai",))


def _entry_text(entry: dict) -> str:
    """One nomination as a line: kind, (code) name, reason."""
    name = f"{entry['code']} {entry['name']}" if entry.get("code") else entry["name"]
    return t("movement.nomination_line", kind=t(KINDS[entry["kind"]]), name=name,
             reason=entry.get("reason") or t("form.empty_value"))


def _nominations_text(draft: dict) -> str:
    entries = draft["nominations"]
    if not entries:
        return t("movement.nominations_none")
    lines = [t("movement.nominations_title", n=len(entries))]
    lines += [f"{i}. {_entry_text(e)}" for i, e in enumerate(entries, start=1)]
    return "\n".join(lines)


def summary(draft: dict) -> Outbound:
    """The form's summary; the yearly one also lists the nominations and offers to edit them."""
    eng = engine(draft["form"])
    full = eng.summary(draft)
    if draft["form"] != YEARLY_FORM:
        return full
    body = eng.summary(draft, can_send=False).text
    *first, cancel = full.options
    edit = Option(t("movement.option.nominations"), "nominations", ("khen thuong",))
    return Outbound("\n".join((body, _nominations_text(draft), t("form.summary_confirm"))),
                    (*first, edit, cancel), free_input=True)


async def ask(ctx: Context, state: DialogState) -> list[Outbound]:
    """The current question again."""
    draft = state.draft
    if state.step == "pick_area":
        return [await _ask_area(ctx, draft)]
    if state.step == "nominations":
        return [_ask_nominations(draft)]
    if state.step == "nominee":
        return [Outbound(t(ASK_NAME[draft["entry"]["kind"]]), (_back(), _cancel()))]
    if state.step == "nominee_pick":
        options = [Option(label, f"hh:{hid}") for hid, label in draft["entry"]["matches"]]
        options.append(Option(t("movement.option.as_typed", name=draft["entry"]["typed"]),
                              "typed"))
        return [Outbound(t("movement.pick_household"), (*options, _back(), _cancel()),
                         free_input=False)]
    if state.step == "reason":
        entry = draft["entry"]
        return [Outbound(t("movement.ask_reason", name=entry["name"]), (_back(), _cancel()))]
    if state.step == "remove":
        options = [Option(f"{i}. {_entry_text(e)}"[:60], f"remove:{i}")
                   for i, e in enumerate(draft["nominations"], start=1)]
        return [Outbound(t("movement.ask_remove"), (*options, _back(), _cancel()),
                         free_input=False)]
    if draft["mode"] == "summary":
        return [summary(draft)]
    return [engine(draft["form"]).ask(draft)]


async def _ask_area(ctx: Context, draft: dict) -> Outbound:
    options = await menu.area_choices(ctx.conn, draft["choices"])
    text = t("movement.pick_area") if options else t("movement.type_area")
    # A numbered list: "2" picks the second area; a typed name is searched for.
    return Outbound(text, (*options, _cancel()), free_input=False)


def _ask_nominations(draft: dict) -> Outbound:
    entries = draft["nominations"]
    lines = [t("movement.nominations_intro", max=MAX_NOMINATIONS), _nominations_text(draft)]
    options = []
    if len(entries) < MAX_NOMINATIONS:
        options += [Option(t("movement.option.add_household"), "add:household", ("ho",)),
                    Option(t("movement.option.add_person"), "add:person", ("ca nhan",))]
    else:
        lines.append(t("movement.nominations_full", max=MAX_NOMINATIONS))
    if entries:
        options.append(Option(t("movement.option.remove"), "remove", ("xoa", "bo")))
    options += [Option(t("form.option.done"), "done", ("xong",)), _cancel()]
    return Outbound("\n".join(lines), tuple(options), free_input=False)


# ---- answering --------------------------------------------------------------------------


async def answer(ctx: Context, state: DialogState, reply: Answer) -> Result:
    if reply.action == "cancel":
        return None, [menu.main_menu(ctx, t("core.cancelled"))]
    handlers = {"pick_area": _on_pick_area, "nominations": _on_nominations,
                "nominee": _on_nominee, "nominee_pick": _on_nominee_pick,
                "reason": _on_reason, "remove": _on_remove}
    handler = handlers.get(state.step, _on_form)
    return await handler(ctx, state, reply)


async def _on_pick_area(ctx: Context, state: DialogState, reply: Answer) -> Result:
    """Opens the form for the chosen area, or searches for a typed name."""
    draft = state.draft
    if reply.action and reply.action.startswith("area:"):
        area = await areas.get_area(ctx.conn, int(reply.action[5:]))
        if area is None or not may_file_for(ctx, area):
            return state, [Outbound(t("core.stale_button"))] + await ask(ctx, state)
        return await begin(ctx, draft["form"], area, draft.get("year"))
    if not reply.text.strip():
        return state, [Outbound(t("movement.type_area"))]
    new_state, messages = await _choose_by_name(ctx, draft["form"], draft.get("year"),
                                                reply.text)
    if new_state is None and len(messages) == 1 and not messages[0].options:
        return state, messages + await ask(ctx, state)  # not found: stay on the question
    return new_state, messages


async def _on_form(ctx: Context, state: DialogState, reply: Answer) -> Result:
    """Passes the answer to the engine; the yearly report detours to its nominations."""
    draft = state.draft
    if draft["mode"] == "summary" and reply.action == "nominations":
        return await _to_nominations(ctx, state)
    step = engine(draft["form"]).answer(draft, reply.text, reply.action)
    if step.cancelled:
        return None, [menu.main_menu(ctx, t("core.cancelled"))]
    if step.submitted:
        return await _submit(ctx, state)
    state.draft = step.draft
    if step.draft["mode"] != "summary":
        return state, step.messages
    if draft["form"] == YEARLY_FORM and not draft.get("nominated"):
        return await _to_nominations(ctx, state)
    return state, step.messages[:-1] + [summary(state.draft)]


async def _to_nominations(ctx: Context, state: DialogState, said: str | None = None) -> Result:
    """Shows the nominations and what can be done with them."""
    state.step = "nominations"
    state.draft.pop("entry", None)
    return state, ([Outbound(said)] if said else []) + await ask(ctx, state)


async def _on_nominations(ctx: Context, state: DialogState, reply: Answer) -> Result:
    """Starts a new nomination, a removal, or goes back to the summary."""
    draft = state.draft
    if reply.action in ("add:household", "add:person"):
        if len(draft["nominations"]) >= MAX_NOMINATIONS:
            return await _to_nominations(ctx, state, t("movement.nominations_full",
                                                       max=MAX_NOMINATIONS))
        draft["entry"] = {"kind": reply.action[4:]}
        state.step = "nominee"
        return state, await ask(ctx, state)
    if reply.action == "remove" and draft["nominations"]:
        state.step = "remove"
        return state, await ask(ctx, state)
    if reply.action == "done":
        draft["nominated"] = True
        state.step = "form"
        return state, [summary(draft)]
    return state, [Outbound(t("movement.choose_option"))] + await ask(ctx, state)


def _typed_name(text: str) -> tuple[str | None, str | None]:
    """A typed name, spaces collapsed, or the sentence that says what is wrong."""
    name = " ".join(text.split())
    if not name:
        return None, t("movement.name_empty")
    if len(name) > NAME_MAX:
        return None, t("movement.name_too_long", max=NAME_MAX)
    return name, None


async def _on_nominee(ctx: Context, state: DialogState, reply: Answer) -> Result:
    """Takes the name of the household or person; a household is looked up in the list."""
    if reply.action == "back":
        return await _to_nominations(ctx, state)
    name, error = _typed_name(reply.text)
    if error:
        return state, [Outbound(error)] + await ask(ctx, state)
    entry = state.draft["entry"]
    if entry["kind"] == "person":
        entry["name"] = name
        return await _to_reason(ctx, state)
    return await _match_household(ctx, state, name)


async def _match_household(ctx: Context, state: DialogState, typed: str) -> Result:
    """Matches a typed household against the list kept for the area, if there is one."""
    entry = state.draft["entry"]
    area = await areas.get_area(ctx.conn, state.draft["area_id"])
    found = await find_households(ctx.conn, typed, within=area, limit=MAX_HOUSEHOLD_MATCHES)
    exact = [h for h in found if h.code == normalise_code(typed)]
    if len(exact) == 1 or len(found) == 1 and fold(found[0].head_name) == fold(typed):
        found = exact or found
        entry.update(name=found[0].head_name, code=found[0].code, household_id=found[0].id)
        return await _to_reason(ctx, state)
    if found:
        entry.update(typed=typed, matches=[[h.id, f"{h.code} — {h.head_name}"] for h in found])
        state.step = "nominee_pick"
        return state, await ask(ctx, state)
    entry["name"] = typed
    said = None
    if area.level == ctx.config.report_level and await has_household_list(ctx.conn, area.id):
        said = t("movement.household_not_listed", name=typed)
    return await _to_reason(ctx, state, said)


async def _on_nominee_pick(ctx: Context, state: DialogState, reply: Answer) -> Result:
    """Takes the household chosen among the matches, the name as typed, or a new search."""
    entry = state.draft["entry"]
    if reply.action == "back":
        return await _to_nominations(ctx, state)
    if reply.action == "typed":
        entry["name"] = entry["typed"]
    elif reply.action and reply.action.startswith("hh:"):
        chosen = int(reply.action[3:])
        label = next((label for hid, label in entry["matches"] if hid == chosen), None)
        if label is None:
            return state, [Outbound(t("core.stale_button"))] + await ask(ctx, state)
        code, _, name = label.partition(" — ")
        entry.update(name=name, code=code, household_id=chosen)
    else:
        name, error = _typed_name(reply.text)
        if name and name.isdigit() and not await _is_code(ctx, state.draft, name):
            error = t("movement.pick_expected", n=len(entry["matches"]) + 1)
        if error:
            return state, [Outbound(error)] + await ask(ctx, state)
        return await _match_household(ctx, state, name)
    for key in ("typed", "matches"):
        entry.pop(key, None)
    return await _to_reason(ctx, state)


async def _is_code(ctx: Context, draft: dict, typed: str) -> bool:
    """True when ``typed`` is the exact code of a household in the report's area."""
    area = await areas.get_area(ctx.conn, draft["area_id"])
    found = await find_households(ctx.conn, typed, within=area, limit=1)
    return bool(found) and found[0].code == normalise_code(typed)


async def _to_reason(ctx: Context, state: DialogState, said: str | None = None) -> Result:
    """Asks why the household or person is nominated."""
    state.step = "reason"
    return state, ([Outbound(said)] if said else []) + await ask(ctx, state)


async def _on_reason(ctx: Context, state: DialogState, reply: Answer) -> Result:
    """Takes the reason and adds the nomination to the list."""
    if reply.action == "back":
        return await _to_nominations(ctx, state)
    reason = " ".join(reply.text.split())
    if not reason:
        return state, [Outbound(t("movement.reason_empty"))] + await ask(ctx, state)
    if len(reason) > REASON_MAX:
        return state, ([Outbound(t("movement.reason_too_long", max=REASON_MAX))]
                       + await ask(ctx, state))
    entry = dict(state.draft["entry"], reason=reason)
    state.draft["nominations"].append(entry)
    return await _to_nominations(ctx, state, t("movement.nomination_added",
                                               entry=_entry_text(entry)))


async def _on_remove(ctx: Context, state: DialogState, reply: Answer) -> Result:
    """Removes the chosen nomination."""
    entries = state.draft["nominations"]
    if reply.action == "back":
        return await _to_nominations(ctx, state)
    if reply.action and reply.action.startswith("remove:"):
        number = int(reply.action[7:])
        if 1 <= number <= len(entries):
            removed = entries.pop(number - 1)
            return await _to_nominations(ctx, state, t("movement.nomination_removed",
                                                       entry=_entry_text(removed)))
    return state, [Outbound(t("movement.remove_expected", n=len(entries)))] + await ask(
        ctx, state)


async def _submit(ctx: Context, state: DialogState) -> Result:
    """Save the report as a new version, checking the person's rights and the year again."""
    draft = state.draft
    form, year = draft["form"], draft["year"]
    area = await areas.get_area(ctx.conn, draft["area_id"])
    if area is None or not may_file_for(ctx, area):
        return None, [menu.main_menu(ctx, t("movement.not_allowed"))]
    error = year_error(form, year, ctx.today)
    if error:
        return None, [menu.main_menu(ctx, error)]
    data = {f.key: draft["values"].get(f.key) for f in engine(form).spec.fields}
    for key in TEXT_FIELDS:
        data[key] = data[key] or ""
    if form == YEARLY_FORM:
        data["nominations"] = [_saved_entry(e) for e in draft["nominations"]]
    version = await save_report(
        ctx.conn, area_id=area.id, form=form, period=draft["period"], data=data,
        actor=ctx.actor, via=ctx.inbound.channel, at=ctx.now,
    )
    done = t("movement.saved", report=report_label(form, year), area=area.name, version=version)
    return None, [menu.main_menu(ctx, done)]


def _saved_entry(entry: dict) -> dict:
    """A nomination as stored: kind, name, reason, and the household's code and id if known."""
    saved = {"kind": entry["kind"], "name": entry["name"], "reason": entry["reason"]}
    if entry.get("household_id"):
        saved.update(code=entry["code"], household_id=entry["household_id"])
    return saved
