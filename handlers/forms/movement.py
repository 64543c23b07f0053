"""The 6-month and yearly movement reports, as data: five fields, the same for both forms.

The yearly report also carries nominations for commendation; they are a list, not a field, so
the dialog (``handlers/movement.py``) asks for them in a small loop of its own.
"""

from __future__ import annotations

from handlers.forms.engine import MONEY, TEXT, Field, FormSpec
from storage.reports import HALF_YEAR_FORM, YEARLY_FORM

TEXT_MAX = 2000  # characters of one answer; a few paragraphs typed on a phone

FIELDS = (
    Field("activities", TEXT, max_length=TEXT_MAX),
    Field("support_vnd", MONEY, max=10**14),
    Field("models", TEXT, optional=True, max_length=TEXT_MAX),
    Field("difficulties", TEXT, optional=True, max_length=TEXT_MAX),
    Field("proposals", TEXT, optional=True, max_length=TEXT_MAX),
)
TEXT_FIELDS = tuple(f.key for f in FIELDS if f.kind == TEXT)

HALF_YEAR = FormSpec(key=HALF_YEAR_FORM, fields=FIELDS)
YEARLY = FormSpec(key=YEARLY_FORM, fields=FIELDS)
SPECS = {HALF_YEAR_FORM: HALF_YEAR, YEARLY_FORM: YEARLY}
