"""The message catalogue: every key the code uses exists, every key is used, placeholders fit."""

from __future__ import annotations

import ast
import string
from pathlib import Path

from common.catalogue import MESSAGES
from common.config import MonthlyReportConfig
from handlers.forms.households import HOUSEHOLD, REGISTRATION, SUPPORT, assessment_spec
from handlers.forms.monthly import monthly_spec
from handlers.forms.movement import HALF_YEAR, YEARLY

ROOT = Path(__file__).resolve().parent.parent
CODE_DIRS = ("common", "bot", "handlers", "storage", "scheduler", "reports")
SPECS = [monthly_spec(MonthlyReportConfig()), HOUSEHOLD, SUPPORT, REGISTRATION,
         assessment_spec(()), HALF_YEAR, YEARLY]


def _literals() -> set[str]:
    """Every string constant in the code, the catalogue itself excluded."""
    found: set[str] = set()
    for folder in CODE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "catalogue.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    found.add(node.value)
    return found


def _t_calls() -> list[tuple[str, str]]:
    calls = []
    for folder in CODE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id == "t" and node.args
                        and isinstance(node.args[0], ast.Constant)):
                    calls.append((str(path.relative_to(ROOT)), node.args[0].value))
    return calls


def _form_keys() -> set[str]:
    keys = set()
    for spec in SPECS:
        for f in spec.fields:
            keys |= {f.label_key or f"form.{spec.key}.{f.key}.label",
                     f.prompt_key or f"form.{spec.key}.{f.key}.prompt"}
            keys |= {label for _, label in f.choices}
        keys |= {c.message_key or f"form.{spec.key}.check.{c.key}" for c in spec.checks}
        keys |= {label for label, _ in spec.extra_first_options}
    return keys


def test_every_key_used_in_code_exists():
    missing = [(where, key) for where, key in _t_calls() if key not in MESSAGES]
    assert not missing


def test_every_form_text_exists():
    assert not sorted(_form_keys() - MESSAGES.keys())


def test_every_catalogue_key_is_used():
    used = _literals() | _form_keys()
    unused = sorted(k for k in MESSAGES if k not in used)
    assert not unused, f"keys nobody uses: {unused}"


def test_placeholders_are_simple_names():
    for key, text in MESSAGES.items():
        for _, name, spec, conv in string.Formatter().parse(text):
            if name is not None:
                assert name.isidentifier(), (key, name)
                assert not spec and not conv, key


def test_messages_are_vietnamese_sentences():
    for key, text in MESSAGES.items():
        assert text.strip() == text and text, key
        assert "TODO" not in text, key
