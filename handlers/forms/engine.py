"""One engine for every form: a form is data (fields + checks), the engine walks it.

The engine is pure: it takes the draft (a JSON-able dict kept in the dialog state) and an
answer, and returns the new draft plus what to say. Saving is the caller's business, so the
same engine serves the monthly report, the household forms, the movement reports and every
later form. Whatever a form is, the engine treats every answer the same way: typed in the
guided dialog or in one line, it is read by the same parser and meets the same checks.

Draft keys: ``values`` (answered fields; a skipped optional field is present with ``None``),
``defaults`` (one-tap values per field), ``from_list`` (one-tap values from a list, over
``defaults``), ``hints`` (per field, the message key, with
``{value}``, saying where its default comes from; "last month" unless given; a field with a
hint offers its default whatever its ``default`` rule), ``current``
(the value a field being fixed had: one tap keeps it), ``previous`` (last period's values,
for checks), ``idx`` (field being asked), ``mode`` (``fill``, ``warn``, ``warn_which``,
``summary``, ``pick_fix``), ``pending`` (the warning being asked: its check, its message,
where the form goes on, the field just answered, and in ``warn_which`` the text typed),
``accepted`` (warnings already confirmed), ``batched`` (those of them raised by a one-line
answer: confirmed together by sending its summary, which asks "are you sure?").

A warning ("are you sure?") is asked as soon as all its fields are answered, and the answer
that raised it is kept while it is asked. The warnings a one-line answer raises are asked
together: the echo of the figures lists them and asks whether they are right. A
number typed at a warning corrects the field the warning is about (``Check.about``, or its
only field); when the warning is about several fields the engine asks which one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from common.catalogue import t
from common.messages import Option, Outbound
from common.numbers import NumberError, format_count, format_money, parse_count, parse_money
from common.text import NO_WORDS, NONE_WORDS, YES_WORDS, fold, plain
from reports.periods import parse_day

COUNT, MONEY, TEXT = "count", "money", "text"
YESNO, CHOICE, MULTI, YEAR, DATE = "yesno", "choice", "multi", "year", "date"
# At a warning: keep the value just typed (the button «Đúng, giữ số này»)…
_SURE = YES_WORDS | {"giu nguyen", "giu", "gn", "giu so nay", "giu nguyen so nay", "van giu"}
# …or type it again («Nhập lại»).
_NOT_SURE = NO_WORDS | {"nhap lai", "go lai", "sai roi", "sua", "sua lai"}
# Typed at a question whose value one tap keeps («Giữ nguyên (118)»): that tap.
KEEP_ALIASES = ("gn", "giu", "van giu", "nhu cu", "khong doi", "van the", "nhu thang truoc")
_DIGITS = re.compile(r"[0-9]+")  # ASCII only: int() also reads "²" and "١٢" (or fails on them)
KEEP_LABEL_MAX = 32  # characters of a default shown on its "keep" button
# An amount of money below this (and above 0) asks "are you sure?": "2" for "2 triệu".
MONEY_PLAUSIBLE_MIN = 1000
# Words of a one-line answer that may still form one amount ("1 500 000 đồng").
ONE_LINE_MONEY_WORDS = 6


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

    Blocking checks refuse the answer that breaks them (and a default that would break them
    is not offered); warnings ask "are you sure?". A check runs once all its ``fields`` are
    answered. ``test(values, reference)`` gets the draft's ``source`` entry as reference:
    last period's figures (``previous``) or, for instance, the figures computed from the
    household list (``listed``). Its message is ``form.<form>.check.<key>`` unless
    ``message_key`` names another. ``about`` names the field the message speaks of: a number
    typed at the warning corrects it (without it: the check's only field, or the engine
    asks which).
    """

    key: str
    fields: tuple[str, ...]
    blocking: bool
    test: Callable[[dict, dict | None], dict | None]
    source: str = "previous"
    message_key: str | None = None
    about: str | None = None


@dataclass(frozen=True)
class FormSpec:
    """A form: its fields and checks, and the words its summary ends with (``confirm_key``,
    the question; ``send_key``, the button): a report is sent, a household is saved."""

    key: str
    fields: tuple[Field, ...]
    checks: tuple[Check, ...] = ()
    extra_first_options: tuple[tuple[str, str], ...] = field(default=())  # (label key, action)
    # The summary's value lines, when the fields read better together than one numbered line
    # each (the deprivation indicators as one «Thiếu …» line); given the answered values.
    summary_lines: Callable[[dict], list[str]] | None = None
    confirm_key: str = "form.summary_confirm"
    send_key: str = "form.option.send"

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


def _implausible_money(label: str, key: str):
    """A warning for an amount that is certainly a slip: ``2`` typed for 2 million."""

    def test(values: dict, reference: dict | None) -> dict | None:
        value = int(values[key])
        if not 0 < value < MONEY_PLAUSIBLE_MIN:
            return None
        return {"label": label, "value": format_money(value),
                "min": format_money(MONEY_PLAUSIBLE_MIN), "typed": value,
                "thousands": format_money(value * 1000),
                "millions": format_money(value * 1_000_000)}

    return test


class FormEngine:
    def __init__(self, spec: FormSpec):
        self.spec = spec
        implied = tuple(
            Check(f"implausible_{f.key}", (f.key,), False,
                  _implausible_money(spec.label(f), f.key), message_key="form.money_implausible")
            for f in spec.fields if f.kind == MONEY
        )
        self.checks = spec.checks + implied
        self._checks = {c.key: c for c in self.checks}
        # (blocking, field) -> the checks of that kind the field takes part in: the engine
        # runs on every message, so an answer runs only the checks it can break.
        self._by_field: dict[tuple[bool, str | None], tuple[Check, ...]] = {
            (blocking, key): tuple(c for c in self.checks if c.blocking == blocking
                                   and (key is None or key in c.fields))
            for blocking in (True, False) for key in (None, *(f.key for f in spec.fields))}

    # ---- starting -------------------------------------------------------------------------

    def start(self, draft: dict, values: list[str] | None = None) -> Step:
        """Begin the form; ``values`` are answers typed in one line (experienced users)."""
        draft.update(values={}, idx=0, mode="fill", accepted=[], batched=[], pending=None)
        draft.pop("multi", None)
        if not values:
            return Step(draft, [self.ask(draft)])
        return self._one_line(draft, values)

    def _one_line(self, draft: dict, words: list[str]) -> Step:
        """Answers typed in one line: each field takes its words, read as its typed answer."""
        errors: list[str] = []
        fields = self.spec.fields
        position = 0
        for i, f in enumerate(fields):
            if position >= len(words):
                break
            value, used, error = self._read_words(f, words, position, draft)
            position += used
            if error:
                errors.append(t("form.one_line_field_error", n=i + 1, label=self.spec.label(f),
                                error=error))
                break
            draft["values"][f.key] = value
        if position < len(words) and not errors:
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
        # The warnings the line raises are asked together, in the echo of the figures (the
        # summary asks "are you sure?"); those of fields answered later, one by one.
        draft["accepted"] = draft["batched"] = [
            c.key for _, c in self._broken(draft, blocking=False)]
        return Step(draft, messages + self._proceed(draft, 0).messages)

    def _read_words(self, f: Field, words: list[str], position: int,
                    draft: dict) -> tuple[object, int, str | None]:
        """The value of field ``f`` from the words at ``position``; how many words it took."""
        rest = words[position:]
        if f.kind == TEXT:  # a text takes the rest of the line
            value, error = self._parse(f, " ".join(rest), draft)
            return value, len(rest), error
        if f.kind == MONEY:  # "2 triệu", "1 500 000": as many words as read as one amount
            for used in range(min(len(rest), ONE_LINE_MONEY_WORDS), 1, -1):
                value, error = self._parse(f, " ".join(rest[:used]), draft)
                if error is None:
                    return value, used, None
        value, error = self._parse(f, rest[0], draft)
        return value, 1, error

    # ---- asking ---------------------------------------------------------------------------

    def ask(self, draft: dict) -> Outbound:
        """The current question again (after a restart, a stale button, a wrong answer)."""
        mode = draft["mode"]
        if mode == "summary":
            return self.summary(draft)
        if mode == "pick_fix":
            return self._ask_fix(draft, t("form.fix_which"))
        if mode == "warn":
            return self._ask_warning(draft)
        if mode == "warn_which":
            return self._ask_which(draft)
        f = self.spec.fields[draft["idx"]]
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
        found = self._default(draft, f)
        if found is not None:  # offered only if the checks accept it; else say why not
            value, hint = found
            shown = format_value(f, value)
            refusal = self._refusal(draft, f, value)
            if refusal is None:
                lines.append(t(hint, value=shown))
                if not (value == 0 and f.default == "zero"):  # then "0 (không có)" keeps it
                    options.append(Option(t("form.option.keep", value=_short(shown)), "keep",
                                          (t("form.option.keep_alias"), *KEEP_ALIASES)))
            else:
                lines.append(t("form.default_refused", value=shown, reason=refusal))
        if f.default == "zero" and self._refusal(draft, f, 0) is None:
            options.append(Option(t("form.option.zero"), "zero"))
        if f.optional:
            options.append(Option(t("form.option.skip"), "skip", ("bo qua", "bq")))
        if draft["idx"] == 0 and mode == "fill":
            extra = self.spec.extra_first_options
            options += [Option(t(label), action) for label, action in extra]
        options.append(Option(t("form.option.cancel"), "cancel", ("huy",)))
        return Outbound("\n".join(lines), tuple(options), free_input=free)

    def summary(self, draft: dict, can_send: bool = True) -> Outbound:
        """The answers, numbered; the warnings still true; the form's own question to send."""
        lines = [draft.get("title", "")] if draft.get("title") else []
        if self.spec.summary_lines is not None:
            lines += self.spec.summary_lines(draft["values"])
        else:
            lines += [t("form.summary_line", n=i, label=self.spec.label(f),
                        value=format_value(f, draft["values"].get(f.key)))
                      for i, f in enumerate(self.spec.fields, start=1)]
        unconfirmed = 0  # warnings of a one-line answer, not asked one by one
        for params, check in self._broken(draft, blocking=False):
            lines.append(t("form.summary_warning", warning=self._message(check, params)))
            unconfirmed += check.key in (draft.get("batched") or ())
        if not can_send:
            return Outbound("\n".join(lines), free_input=True)
        if unconfirmed:
            lines.append(t("form.summary_sure"))
        lines.append(t(self.spec.confirm_key))
        return Outbound(
            "\n".join(lines),
            (Option(t(self.spec.send_key), "send", ("gui", "dong y", "ok")),
             Option(t("form.option.fix"), "fix", ("sua",)),
             Option(t("form.option.cancel"), "cancel", ("huy",))),
            free_input=True,  # a typed number means "fix field N", never "the Nth button"
        )

    def _ask_fix(self, draft: dict, question: str) -> Outbound:
        """Which field to fix: field N is option N; after them, back to the summary (when it
        can be sent). No other option takes a number, so "sửa N" and option N always agree;
        "hủy" and /huy cancel as everywhere."""
        options = [Option(f"{i}. {self.spec.label(f)}", f"fix:{i}")
                   for i, f in enumerate(self.spec.fields, start=1)]
        if self._can_go_back(draft):
            options.append(Option(t("form.option.back"), "back", ("quay lai",)))
        return Outbound(question, tuple(options), free_input=False)

    def _can_go_back(self, draft: dict) -> bool:
        """True when the fix menu may go back to a summary that can be sent."""
        return self._complete(draft) and not any(self._broken(draft, blocking=True))

    def _fix_expected(self, draft: dict) -> Step:
        n = len(self.spec.fields)
        said = t("form.fix_expected_back", n=n, back=n + 1) if self._can_go_back(draft) \
            else t("form.fix_expected", n=n)
        draft["mode"] = "pick_fix"
        return Step(draft, [Outbound(said), self._ask_fix(draft, t("form.fix_which"))])

    def _ask_warning(self, draft: dict) -> Outbound:
        """"Are you sure?", with a way to correct each field the warning is about."""
        pending = draft["pending"]
        check = self._checks.get(pending["check"])
        lines = [t("form.warning_confirm", warning=pending["message"])]
        options = [Option(t("form.option.warning_ok"), "warn_ok")]
        targets = self._targets(check)
        if targets and targets == [pending.get("field")]:
            options.append(Option(t("form.option.warning_redo"), f"redo:{targets[0]}"))
        else:
            typed_to = self._typed_target(check)
            if typed_to is not None:
                i = self.spec.index(typed_to)
                lines.append(t("form.warning_type_for", n=i + 1,
                               label=self.spec.label(self.spec.fields[i])))
            options += [Option(t("form.option.redo_field",
                                 label=self.spec.label(self.spec.fields[self.spec.index(k)])),
                               f"redo:{k}") for k in targets]
        options.append(Option(t("form.option.cancel"), "cancel", ("huy",)))
        return Outbound("\n".join(lines), tuple(options), free_input=True)

    def _ask_which(self, draft: dict) -> Outbound:
        """Which field a number typed at a warning about several fields is for."""
        pending = draft["pending"]
        targets = self._targets(self._checks.get(pending["check"]))
        options = [Option(self.spec.label(self.spec.fields[self.spec.index(k)]), f"put:{k}")
                   for k in targets]
        options += [Option(t("form.option.back"), "back", ("quay lai",)),
                    Option(t("form.option.cancel"), "cancel", ("huy",))]
        return Outbound(t("form.warning_which", value=pending.get("typed", "")),
                        tuple(options), free_input=False)

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
            return self._on_warning(draft, text, action)
        if mode == "warn_which":
            return self._on_which(draft, text, action)
        return self._on_field(draft, text, action)

    def _on_field(self, draft: dict, text: str, action: str | None) -> Step:
        f = self.spec.fields[draft["idx"]]
        if action is not None and action in {a for _, a in self.spec.extra_first_options}:
            return Step(draft, [], action=action)
        if action == "keep":
            found = self._default(draft, f)
            if found is None:
                return Step(draft, [self.ask(draft)])
            value = found[0]
        elif action == "zero":
            value = 0
        elif action == "skip" and f.optional:
            value = None
        elif action in ("yes", "no"):
            value = action == "yes"
        elif action == "today":
            value = draft["today"]
        elif action and action.startswith("val:") and action[4:] in {v for v, _ in f.choices}:
            value = action[4:]
        elif action and action.startswith("toggle:") and f.kind == MULTI:
            chosen = draft.setdefault("multi", [])
            picked = f.choices[int(action[7:])][0]
            chosen.remove(picked) if picked in chosen else chosen.append(picked)
            return Step(draft, [self.ask(draft)])
        elif action == "done" and f.kind == MULTI:
            value = [v for v, _ in f.choices if v in (draft.get("multi") or [])]
        elif action is not None and not text:
            return Step(draft, [self.ask(draft)])
        else:
            value, error = self._parse(f, text, draft)
            if error:
                return Step(draft, [Outbound(error), self.ask(draft)])
        refusal = self._refusal(draft, f, value)
        if refusal is not None:
            return Step(draft, [Outbound(t("form.refused", reason=refusal)), self.ask(draft)])
        return self._store(draft, f, value)

    def _store(self, draft: dict, f: Field, value: object) -> Step:
        """Keep an accepted answer; on to the warnings it raises, else the next question."""
        draft["values"][f.key] = value
        draft.pop("multi", None)
        (draft.get("current") or {}).pop(f.key, None)
        return self._proceed(draft, self.spec.index(f.key) + 1, answered=f.key)

    def _proceed(self, draft: dict, start: int, answered: str | None = None) -> Step:
        """A warning not yet confirmed (of the field just ``answered``, or of any); else the
        next unanswered field from ``start``; else the summary."""
        for params, check in self._broken(draft, blocking=False, only=answered):
            if check.key not in draft["accepted"]:
                draft.update(mode="warn", pending={
                    "check": check.key, "message": self._message(check, params),
                    "resume": start, "field": answered})
                return Step(draft, [self.ask(draft)])
        following = self._next_unanswered(draft, start)
        if following is None:
            draft.update(mode="summary", pending=None)
            return Step(draft, [self.summary(draft)])
        draft.update(idx=following, mode="fill", pending=None)
        return Step(draft, [self.ask(draft)])

    def _on_warning(self, draft: dict, text: str, action: str | None) -> Step:
        """"Yes, keep it"; a correction of one of its fields; or a new number for it."""
        pending = draft["pending"]
        if "value" in pending:  # a draft saved before the answer was kept while asking
            draft["values"][self.spec.fields[draft["idx"]].key] = pending.pop("value")
            pending.setdefault("field", self.spec.fields[draft["idx"]].key)
            pending.setdefault("resume", draft["idx"] + 1)
        check = self._checks.get(pending["check"])
        targets = self._targets(check)
        typed = plain(text)
        if action == "warn_ok" or (action is None and typed in _SURE):
            if check is not None:
                draft["accepted"].append(check.key)
            return self._proceed(draft, pending.get("resume", 0), answered=pending.get("field"))
        if action == "redo":  # the button of a draft saved before: the field just answered
            action = f"redo:{pending.get('field') or (targets or [None])[0]}"
        if action and action.startswith("redo:") and action[5:] in targets:
            return self._reopen(draft, action[5:])
        if action is None and typed in _NOT_SURE and targets:
            return self._reopen(draft, self._typed_target(check) or targets[0])
        if not typed or not targets:
            return Step(draft, [self.ask(draft)])
        target = self._typed_target(check)
        if target is None:
            draft["mode"] = "warn_which"
            pending["typed"] = " ".join(text.split())[:60]
            return Step(draft, [self.ask(draft)])
        return self._correct(draft, target, text)

    def _on_which(self, draft: dict, text: str, action: str | None) -> Step:
        pending = draft["pending"]
        targets = self._targets(self._checks.get(pending["check"]))
        if action and action.startswith("put:") and action[4:] in targets:
            return self._correct(draft, action[4:], pending.pop("typed", ""))
        pending.pop("typed", None)
        draft["mode"] = "warn"
        if action == "back" or (action is None and plain(text) in NO_WORDS):
            return Step(draft, [self.ask(draft)])
        return self._on_warning(draft, text, action)  # something else: an answer to the warning

    def _correct(self, draft: dict, key: str, text: str) -> Step:
        """``text`` as the new answer of field ``key`` (typed at a warning about it); when that
        is not the field just answered, the person is told which field took it."""
        answered = (draft.get("pending") or {}).get("field")
        self._reopen(draft, key)
        step = self._on_field(draft, text, None)
        if key != answered and key in draft["values"]:
            f = self.spec.fields[self.spec.index(key)]
            said = t("form.corrected", label=self.spec.label(f),
                     value=format_value(f, draft["values"][key]))
            step.messages.insert(0, Outbound(said))
        return step

    def _reopen(self, draft: dict, key: str) -> Step:
        """Ask field ``key`` again; the warnings it took part in are asked again."""
        i = self.spec.index(key)
        if self.spec.fields[i].kind == MULTI:
            draft["multi"] = list(draft["values"].get(key) or [])
        draft["values"].pop(key, None)
        draft["accepted"], draft["batched"] = (
            [c for c in draft.get(name) or () if c in self._checks
             and key not in self._checks[c].fields] for name in ("accepted", "batched"))
        draft.update(idx=i, mode="fill", pending=None)
        return Step(draft, [self.ask(draft)])

    def _on_summary(self, draft: dict, text: str, action: str | None) -> Step:
        if action == "send":
            broken = list(self._broken(draft, blocking=True))
            if broken:
                params, check = broken[0]
                draft["mode"] = "pick_fix"
                return Step(draft, [Outbound(self._message(check, params)),
                                    self._ask_fix(draft, t("form.fix_which_after_error"))])
            step = self._proceed(draft, 0)  # nothing missing, every warning confirmed
            if draft["mode"] != "summary":
                return step
            return Step(draft, [], submitted=True)
        if action == "fix":
            draft["mode"] = "pick_fix"
            return Step(draft, [self._ask_fix(draft, t("form.fix_which"))])
        number = self._fix_number(text)
        if number is not None:
            return self._start_fix(draft, number)
        typed = plain(text)
        if action is None and typed in YES_WORDS:  # «Gửi …?» — «có»
            return self._on_summary(draft, "", "send")
        key = "form.summary_not_sent" if typed in NO_WORDS else "form.summary_expected"
        return Step(draft, [Outbound(t(key)), self.summary(draft)])

    def _on_pick_fix(self, draft: dict, text: str, action: str | None) -> Step:
        if action and action.startswith("fix:") and _DIGITS.fullmatch(action[4:]):
            number = int(action[4:])
        else:
            number = self._fix_number(text) or self._field_named(text)
        back = len(self.spec.fields) + 1  # the option after the fields: "sửa 11" is it too
        no = action is None and plain(text) in NO_WORDS  # «Sửa mục nào?» — «không»
        if (action == "back" or number == back or no) and self._can_go_back(draft):
            return self._proceed(draft, 0)
        if number is None:
            return self._fix_expected(draft)
        return self._start_fix(draft, number)

    def _start_fix(self, draft: dict, number: int) -> Step:
        if not 1 <= number <= len(self.spec.fields):
            return self._fix_expected(draft)
        key = self.spec.fields[number - 1].key
        if draft["values"].get(key) is not None:  # one tap keeps the value being fixed
            draft.setdefault("current", {})[key] = draft["values"][key]
        return self._reopen(draft, key)

    # ---- helpers --------------------------------------------------------------------------

    def _default(self, draft: dict, f: Field) -> tuple[object, str] | None:
        """The value one tap keeps for ``f`` and the key of the sentence that says where it
        comes from: the value being fixed, else the form's default (last period, a list)."""
        if f.kind == MULTI:
            return None
        current = (draft.get("current") or {}).get(f.key)
        if current is not None:
            return current, "form.fix_hint"
        from_list = draft.get("from_list") or {}
        listed = f.key in from_list  # figures of a household list, over the other defaults
        value = from_list[f.key] if listed else (draft.get("defaults") or {}).get(f.key)
        hint = None if listed else (draft.get("hints") or {}).get(f.key)
        # Offered for a field that keeps its value from period to period, or when the form
        # says where this default comes from (a list; a version already filed).
        if value in (None, "") or not (f.default == "previous" or listed or hint):
            return None
        return value, hint or ("form.list_hint" if listed else "form.default_hint")

    def _refusal(self, draft: dict, f: Field, value: object) -> str | None:
        """Why ``value`` cannot be the answer of ``f`` (its bounds, a blocking check), or
        None. The same test refuses a typed answer and keeps a default from being offered."""
        if f.kind in (COUNT, MONEY, YEAR) and value is not None:
            low, high = self._bounds(draft, f)
            if not low <= int(value) <= high:
                show = {MONEY: format_money, YEAR: str}.get(f.kind, format_count)
                return t("form.bounds", label=self.spec.label(f), min=show(low), max=show(high))
        trial = {**draft, "values": {**draft["values"], f.key: value}}
        for params, check in self._broken(trial, blocking=True, only=f.key):
            return self._message(check, params)
        return None

    def _bounds(self, draft: dict, f: Field) -> tuple[int, int]:
        low, high = (draft.get("bounds") or {}).get(f.key) or (f.min, f.max)
        return int(low), int(high)

    def _targets(self, check: Check | None) -> list[str]:
        """The fields a correction at ``check``'s warning may go to, the one it is about first."""
        if check is None:
            return []
        keys = [check.about] if check.about else []
        return keys + [f.key for f in self.spec.fields if f.key in check.fields
                       and f.key not in keys]

    def _typed_target(self, check: Check | None) -> str | None:
        """The field a number typed at ``check``'s warning goes to; None: ask which."""
        if check is None:
            return None
        return check.about or (check.fields[0] if len(check.fields) == 1 else None)

    def _fix_number(self, text: str) -> int | None:
        """``3``, ``sửa 3``, ``sửa mục 3``: the number of the field to fix."""
        words = fold(text).split()
        if len(words) >= 2 and words[0] in ("sua", "s") and words[1:-1] in ([], ["muc"]):
            words = words[-1:]
        if len(words) == 1 and _DIGITS.fullmatch(words[0]) and len(words[0]) <= 3:
            return int(words[0])
        return None

    def _field_named(self, text: str) -> int | None:
        """The number of the field whose label is typed (``hộ cận nghèo``)."""
        typed = plain(text)
        for i, f in enumerate(self.spec.fields, start=1):
            if typed and typed == plain(self.spec.label(f)):
                return i
        return None

    def _complete(self, draft: dict) -> bool:
        return all(f.key in draft["values"] for f in self.spec.fields)

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
            if typed in YES_WORDS:
                return True, None
            if typed in NO_WORDS:
                return False, None
            return None, t("form.yesno_expected")
        if f.optional and f.kind == TEXT and typed in NO_WORDS:  # «Ghi chú?» — «không»
            return None, None
        if f.kind == CHOICE:
            if _DIGITS.fullmatch(typed) and 1 <= int(typed) <= len(f.choices):
                return f.choices[int(typed) - 1][0], None
            for value, key in f.choices:
                if typed and typed in (plain(t(key)), plain(value)):
                    return value, None
            return None, t("form.choice_expected", n=len(f.choices))
        if f.kind == MULTI:
            if typed in NO_WORDS:
                return [], None
            numbers = typed.replace(",", " ").split()
            if numbers and all(_DIGITS.fullmatch(x) and 1 <= int(x) <= len(f.choices)
                               for x in numbers):
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
            if f.kind in (COUNT, MONEY) and typed in NONE_WORDS:  # «chưa có»: none
                value = 0
            else:
                value = parse_money(text) if f.kind == MONEY else parse_count(text)
        except NumberError as exc:
            return None, t(exc.key, **exc.params)
        low, high = self._bounds(draft or {}, f)
        if not low <= value <= high:
            show = {MONEY: format_money, YEAR: str}.get(f.kind, format_count)
            return None, t("form.refused", reason=t("form.bounds", label=label, min=show(low),
                                                    max=show(high)))
        return value, None

    def _broken(self, draft: dict, *, blocking: bool, only: str | None = None):
        values = draft["values"]
        for check in self._by_field.get((blocking, only), ()):
            if any(values.get(k) is None for k in check.fields):
                continue
            params = check.test(values, draft.get(check.source))
            if params is not None:
                yield params, check

    def _message(self, check: Check, params: dict) -> str:
        return t(check.message_key or f"form.{self.spec.key}.check.{check.key}", **params)
