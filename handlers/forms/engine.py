"""One engine for every form: a form is data (fields + checks), the engine walks it.

The engine is pure: it takes the draft (a JSON-able dict kept in the dialog state) and an
answer, and returns the new draft plus what to say. Saving is the caller's business, so the
same engine serves the monthly report, household updates and every later form.

Draft keys: ``values`` (answered fields; a skipped optional field is present with ``None``),
``defaults`` (one-tap values per field), ``hints`` (per field, the message key, with
``{value}``, saying where its default comes from; "last month" unless given), ``previous``
(last period's values, for checks), ``idx`` (field being asked), ``mode`` (``fill``,
``warn``, ``summary``, ``pick_fix``), ``pending`` (a value waiting for "are you sure?"),
``accepted`` (warnings already confirmed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from common.catalogue import t
from common.messages import Option, Outbound
from common.numbers import NumberError, format_count, format_money, parse_count, parse_money
from common.text import fold, plain
from reports.periods import parse_day

COUNT, MONEY, TEXT = "count", "money", "text"
YESNO, CHOICE, MULTI, YEAR, DATE = "yesno", "choice", "multi", "year", "date"
_YES = {"co", "c", "yes", "y", "dung", "phai", "co a", "u", "uh"}
_NO = {"khong", "k", "ko", "kg", "khg", "no", "n", "sai", "chua", "khong co"}
KEEP_LABEL_MAX = 32  # characters of a default shown on its "keep" button


@dataclass(frozen=True)
class Field:
    """One question. Its label and prompt are catalogue keys ``form.<form>.<key>.label|prompt``
    unless ``label_key``/``prompt_key`` name others (fields built from configuration).

    ``choices`` are (value, label key) pairs for ``choice`` and ``multi`` fields. The draft may
    narrow ``min``/``max`` per form instance with ``draft["bounds"][key] = [min, max]``
    (e.g. a target year from this year on).
    """

    key: str
    kind: str
    min: int = 0
    max: int = 1_000_000
    default: str = "previous"  # "previous": one tap keeps the default; "zero"; "none"
    optional: bool = False
    max_length: int = 1000
    choices: tuple[tuple[str, str], ...] = ()
    label_key: str | None = None
    prompt_key: str | None = None


@dataclass(frozen=True)
class Check:
    """A rule across fields. ``test`` returns message parameters when the rule is broken.

    Blocking checks refuse the answer that breaks them; warnings ask "are you sure?".
    A check runs once all its ``fields`` are answered. ``test(values, reference)`` gets the
    draft's ``source`` entry as reference: last period's figures (``previous``) or, for
    instance, the figures computed from the household list (``from_list``). Its message is
    ``form.<form>.check.<key>`` unless ``message_key`` names another.
    """

    key: str
    fields: tuple[str, ...]
    blocking: bool
    test: Callable[[dict, dict | None], dict | None]
    source: str = "previous"
    message_key: str | None = None


@dataclass(frozen=True)
class FormSpec:
    key: str
    fields: tuple[Field, ...]
    checks: tuple[Check, ...] = ()
    extra_first_options: tuple[tuple[str, str], ...] = field(default=())  # (label key, action)
    # The summary's value lines, when the fields read better together than one numbered line
    # each (the deprivation indicators as one «Thiếu …» line); given the answered values.
    summary_lines: Callable[[dict], list[str]] | None = None

    def label(self, f: Field) -> str:
        return t(f.label_key or f"form.{self.key}.{f.key}.label")

    def prompt(self, f: Field) -> str:
        return t(f.prompt_key or f"form.{self.key}.{f.key}.prompt")

    def index(self, key: str) -> int:
        return next(i for i, f in enumerate(self.fields) if f.key == key)


@dataclass
class Step:
    """What the engine decided: the new draft, messages, and whether the form is done."""

    draft: dict
    messages: list[Outbound]
    submitted: bool = False
    cancelled: bool = False
    action: str | None = None  # an extra first-question action for the caller to handle


def format_value(f: Field, value: object) -> str:
    if f.kind == MULTI and value == []:
        return t("form.none_selected")
    if value is None or value == "":
        return t("form.empty_value")
    if f.kind == COUNT:
        return format_count(int(value))
    if f.kind == MONEY:
        return format_money(int(value))
    if f.kind == YESNO:
        return t("form.option.yes") if value else t("form.option.no")
    if f.kind == CHOICE:
        return _choice_label(f, value)
    if f.kind == MULTI:
        return ", ".join(_choice_label(f, v) for v in value)
    if f.kind == DATE:
        return date.fromisoformat(str(value)).strftime("%d/%m/%Y")
    return str(value)


def _short(text: str, limit: int = KEEP_LABEL_MAX) -> str:
    """``text`` cut to ``limit`` characters for a button label (a long text default)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _choice_label(f: Field, value: object) -> str:
    return next((t(label) for v, label in f.choices if v == value), str(value))


class FormEngine:
    def __init__(self, spec: FormSpec):
        self.spec = spec

    # ---- starting -------------------------------------------------------------------------

    def start(self, draft: dict, values: list[str] | None = None) -> Step:
        """Begin the form; ``values`` are answers typed in one line (experienced users)."""
        draft.update(values={}, idx=0, mode="fill", accepted=[], pending=None)
        if not values:
            return Step(draft, [self.ask(draft)])
        return self._one_line(draft, values)

    def _one_line(self, draft: dict, tokens: list[str]) -> Step:
        errors: list[str] = []
        fields = self.spec.fields
        position = 0
        for i, f in enumerate(fields):
            if position >= len(tokens):
                break
            if f.kind == TEXT:
                raw = " ".join(tokens[position:])
                position = len(tokens)
            else:
                raw = tokens[position]
                position += 1
            value, error = self._parse(f, raw)
            if error:
                errors.append(t("form.one_line_field_error", n=i + 1, label=self.spec.label(f),
                                error=error))
                break
            draft["values"][f.key] = value
        if position < len(tokens) and not errors:
            errors.append(t("form.one_line_too_many", n=len(fields)))
        if not errors:  # optional fields left out of the line count as skipped
            for f in fields:
                if f.optional and f.key not in draft["values"]:
                    draft["values"][f.key] = None
        messages = [Outbound(m) for m in errors]
        broken = list(self._broken(draft, blocking=True))
        if broken:
            messages.append(self.summary(draft, can_send=False))
            messages += [Outbound(self._message(check, params)) for params, check in broken]
            draft["mode"] = "pick_fix"
            messages.append(self._ask_fix(draft, t("form.fix_which_after_error")))
            return Step(draft, messages)
        missing = self._next_unanswered(draft, 0)
        if missing is not None:
            draft.update(idx=missing, mode="fill")
            messages.append(self.ask(draft))
            return Step(draft, messages)
        draft["mode"] = "summary"
        messages.append(self.summary(draft))
        return Step(draft, messages)

    # ---- asking ---------------------------------------------------------------------------

    def ask(self, draft: dict) -> Outbound:
        """The current question again (after a restart, a stale button, a wrong answer)."""
        mode = draft["mode"]
        if mode == "summary":
            return self.summary(draft)
        if mode == "pick_fix":
            return self._ask_fix(draft, t("form.fix_which"))
        f = self.spec.fields[draft["idx"]]
        if mode == "warn":
            pending = draft["pending"]
            return Outbound(
                t("form.warning_confirm", warning=pending["message"]),
                (Option(t("form.option.warning_ok"), "warn_ok"),
                 Option(t("form.option.warning_redo"), "redo")),
            )
        n = len(self.spec.fields)
        lines = [t("form.question", n=draft["idx"] + 1, total=n, prompt=self.spec.prompt(f))]
        options: list[Option] = []
        free = f.kind not in (YESNO, CHOICE, MULTI)
        if f.kind == YESNO:
            options += [Option(t("form.option.yes"), "yes"), Option(t("form.option.no"), "no")]
        elif f.kind == CHOICE:
            options += [Option(t(label), f"val:{v}") for v, label in f.choices]
        elif f.kind == MULTI:
            chosen = draft.get("multi") or []
            lines.append(t("form.multi_hint"))
            if chosen:
                lines.append(t("form.multi_selected", items=format_value(f, chosen)))
            options += [Option(("✔ " if v in chosen else "") + t(label), f"toggle:{i}")
                        for i, (v, label) in enumerate(f.choices)]
            options.append(Option(t("form.option.done"), "done", ("xong",)))
        elif f.kind == DATE:
            options.append(Option(t("form.option.today"), "today", ("hom nay",)))
        default = draft.get("defaults", {}).get(f.key)
        listed = f.key in (draft.get("from_list") or {})
        if (f.default == "previous" or listed) and default not in (None, "") and f.kind != MULTI:
            shown = format_value(f, default)
            hint = (draft.get("hints") or {}).get(f.key)
            hint = hint or ("form.list_hint" if listed else "form.default_hint")
            lines.append(t(hint, value=shown))
            options.append(Option(t("form.option.keep", value=_short(shown)), "keep",
                                  (t("form.option.keep_alias"), "gn", "nhu cu")))
        elif f.default == "zero":
            options.append(Option(t("form.option.zero"), "zero"))
        if f.optional:
            options.append(Option(t("form.option.skip"), "skip", ("bo qua", "bq")))
        if draft["idx"] == 0 and mode == "fill":
            extra = self.spec.extra_first_options
            options += [Option(t(label), action) for label, action in extra]
        options.append(Option(t("form.option.cancel"), "cancel", ("huy",)))
        return Outbound("\n".join(lines), tuple(options), free_input=free)

    def summary(self, draft: dict, can_send: bool = True) -> Outbound:
        lines = [draft.get("title", "")] if draft.get("title") else []
        if self.spec.summary_lines is not None:
            lines += self.spec.summary_lines(draft["values"])
        else:
            lines += [t("form.summary_line", n=i, label=self.spec.label(f),
                        value=format_value(f, draft["values"].get(f.key)))
                      for i, f in enumerate(self.spec.fields, start=1)]
        for params, check in self._broken(draft, blocking=False):
            lines.append(t("form.summary_warning", warning=self._message(check, params)))
        if not can_send:
            return Outbound("\n".join(lines), free_input=True)
        lines.append(t("form.summary_confirm"))
        return Outbound(
            "\n".join(lines),
            (Option(t("form.option.send"), "send", ("gui", "dong y", "ok")),
             Option(t("form.option.fix"), "fix", ("sua",)),
             Option(t("form.option.cancel"), "cancel", ("huy",))),
            free_input=True,  # a typed number means "fix field N", never "the Nth button"
        )

    def _ask_fix(self, draft: dict, question: str) -> Outbound:
        options = tuple(
            Option(f"{i}. {self.spec.label(f)}", f"fix:{i}")
            for i, f in enumerate(self.spec.fields, start=1)
        )
        return Outbound(question, options + (Option(t("form.option.cancel"), "cancel"),),
                        free_input=False)

    # ---- answering ------------------------------------------------------------------------

    def answer(self, draft: dict, text: str, action: str | None) -> Step:
        """Apply one answer: typed ``text``, or a chosen option's ``action``."""
        if action == "cancel":
            return Step(draft, [], cancelled=True)
        mode = draft["mode"]
        if mode == "summary":
            return self._on_summary(draft, text, action)
        if mode == "pick_fix":
            return self._on_pick_fix(draft, text, action)
        if mode == "warn":
            if action == "warn_ok":
                pending = draft["pending"]
                draft["accepted"].append(pending["check"])
                return self._accept(draft, pending["value"])
            if action == "redo":
                draft.update(mode="fill", pending=None)
                return Step(draft, [self.ask(draft)])
            draft.update(mode="fill", pending=None)  # a new answer to the same question
        return self._on_field(draft, text, action)

    def _on_field(self, draft: dict, text: str, action: str | None) -> Step:
        f = self.spec.fields[draft["idx"]]
        if action is not None and action in {a for _, a in self.spec.extra_first_options}:
            return Step(draft, [], action=action)
        if action == "keep":
            value = draft.get("defaults", {}).get(f.key)
        elif action == "zero":
            value = 0
        elif action == "skip":
            value = None
        elif action in ("yes", "no"):
            value = action == "yes"
        elif action == "today":
            value = draft["today"]
        elif action and action.startswith("val:"):
            value = action[4:]
        elif action and action.startswith("toggle:"):
            chosen = draft.setdefault("multi", [])
            picked = f.choices[int(action[7:])][0]
            chosen.remove(picked) if picked in chosen else chosen.append(picked)
            return Step(draft, [self.ask(draft)])
        elif action == "done":
            value = [v for v, _ in f.choices if v in (draft.get("multi") or [])]
        else:
            value, error = self._parse(f, text, draft)
            if error:
                return Step(draft, [Outbound(error), self.ask(draft)])
        trial = dict(draft["values"], **{f.key: value})
        for params, check in self._broken({**draft, "values": trial}, blocking=True, only=f.key):
            return Step(draft, [Outbound(self._message(check, params)), self.ask(draft)])
        for params, check in self._broken({**draft, "values": trial}, blocking=False, only=f.key):
            if check.key in draft["accepted"]:
                continue
            draft.update(mode="warn", pending={
                "check": check.key, "value": value, "message": self._message(check, params)})
            return Step(draft, [self.ask(draft)])
        return self._accept(draft, value)

    def _accept(self, draft: dict, value: object) -> Step:
        f = self.spec.fields[draft["idx"]]
        draft["values"][f.key] = value
        draft["pending"] = None
        draft.pop("multi", None)
        following = self._next_unanswered(draft, draft["idx"] + 1)
        if following is None:
            draft["mode"] = "summary"
            return Step(draft, [self.summary(draft)])
        draft.update(idx=following, mode="fill")
        return Step(draft, [self.ask(draft)])

    def _on_summary(self, draft: dict, text: str, action: str | None) -> Step:
        if action == "send":
            broken = list(self._broken(draft, blocking=True))
            if broken:
                params, check = broken[0]
                draft["mode"] = "pick_fix"
                return Step(draft, [Outbound(self._message(check, params)),
                                    self._ask_fix(draft, t("form.fix_which_after_error"))])
            return Step(draft, [], submitted=True)
        if action == "fix":
            draft["mode"] = "pick_fix"
            return Step(draft, [self._ask_fix(draft, t("form.fix_which"))])
        number = self._fix_number(text)
        if number is not None:
            return self._start_fix(draft, number)
        return Step(draft, [Outbound(t("form.summary_expected")), self.summary(draft)])

    def _on_pick_fix(self, draft: dict, text: str, action: str | None) -> Step:
        number = None
        if action and action.startswith("fix:"):
            number = int(action[4:])
        else:
            number = self._fix_number(text)
        if number is None:
            return Step(draft, [Outbound(t("form.fix_expected", n=len(self.spec.fields))),
                                self._ask_fix(draft, t("form.fix_which"))])
        return self._start_fix(draft, number)

    def _start_fix(self, draft: dict, number: int) -> Step:
        if not 1 <= number <= len(self.spec.fields):
            return Step(draft, [Outbound(t("form.fix_expected", n=len(self.spec.fields))),
                                self._ask_fix(draft, t("form.fix_which"))])
        key = self.spec.fields[number - 1].key
        if draft["values"].get(key) is not None:  # one tap keeps the value being fixed
            draft.setdefault("defaults", {})[key] = draft["values"][key]
            draft.setdefault("hints", {})[key] = "form.fix_hint"
        if self.spec.fields[number - 1].kind == MULTI:
            draft["multi"] = list(draft["values"].get(key) or [])
        draft["accepted"] = [c for c in draft["accepted"]
                             if key not in self._check(c).fields]
        draft["values"].pop(key, None)
        draft.update(idx=number - 1, mode="fill")
        return Step(draft, [self.ask(draft)])

    # ---- helpers --------------------------------------------------------------------------

    def _fix_number(self, text: str) -> int | None:
        words = fold(text).split()
        if len(words) == 2 and words[0] in ("sua", "s") and words[1].isdigit():
            return int(words[1])
        if len(words) == 1 and words[0].isdigit() and len(words[0]) <= 3:
            return int(words[0])
        return None

    def _next_unanswered(self, draft: dict, start: int) -> int | None:
        n = len(self.spec.fields)
        for i in list(range(start, n)) + list(range(0, start)):
            if self.spec.fields[i].key not in draft["values"]:
                return i
        return None

    def _parse(self, f: Field, text: str, draft: dict | None = None) -> tuple[object, str | None]:
        """The value of a typed answer, or the sentence that says what is expected."""
        label = self.spec.label(f)
        typed = plain(text)
        if f.kind == YESNO:
            if typed in _YES:
                return True, None
            if typed in _NO:
                return False, None
            return None, t("form.yesno_expected")
        if f.kind == CHOICE:
            for value, key in f.choices:
                if typed and typed in (plain(t(key)), plain(value)):
                    return value, None
            return None, t("form.choice_expected", n=len(f.choices))
        if f.kind == MULTI:
            if typed in _NO:
                return [], None
            numbers = typed.replace(",", " ").split()
            if numbers and all(x.isdigit() and 1 <= int(x) <= len(f.choices) for x in numbers):
                picked = {f.choices[int(x) - 1][0] for x in numbers}
                return [v for v, _ in f.choices if v in picked], None
            return None, t("form.multi_expected", n=len(f.choices))
        if f.kind == DATE:
            today = date.fromisoformat((draft or {}).get("today") or date.today().isoformat())
            day = parse_day(text, today)
            if day is None:
                return None, t("form.date_expected")
            return day.isoformat(), None
        if f.kind == TEXT:
            value = " ".join(text.split())
            if not value:
                return None, t("form.text_empty", label=label)
            if len(value) > f.max_length:
                return None, t("form.text_too_long", label=label, max=f.max_length)
            return value, None
        try:
            value = parse_money(text) if f.kind == MONEY else parse_count(text)
        except NumberError as exc:
            return None, t(exc.key, **exc.params)
        low, high = ((draft or {}).get("bounds") or {}).get(f.key) or (f.min, f.max)
        if not low <= value <= high:
            show = {MONEY: format_money, YEAR: str}.get(f.kind, format_count)
            return None, t("form.out_of_bounds", label=label, min=show(low), max=show(high))
        return value, None

    def _check(self, key: str) -> Check:
        return next(c for c in self.spec.checks if c.key == key)

    def _broken(self, draft: dict, *, blocking: bool, only: str | None = None):
        values = draft["values"]
        for check in self.spec.checks:
            if check.blocking != blocking or (only and only not in check.fields):
                continue
            if any(values.get(k) is None for k in check.fields):
                continue
            params = check.test(values, draft.get(check.source))
            if params is not None:
                yield params, check

    def _message(self, check: Check, params: dict) -> str:
        return t(check.message_key or f"form.{self.spec.key}.check.{check.key}", **params)
