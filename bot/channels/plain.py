"""Messages as plain text, for channels without buttons (Zalo, the console).

Options become a numbered list answered by number or label, or, where the person may also
type an answer, shortcuts on one line so that a typed "1" stays the number one; the core
resolves what is typed (``handlers.core._typed_option``).
"""

from __future__ import annotations

from common.messages import Outbound


def options_text(outbound: Outbound) -> str:
    """The options as text: shortcuts on one line when the person may also type an answer
    (so that typing "1" stays the number one), else a numbered list answered by number or
    label."""
    if not outbound.options:
        return ""
    if outbound.free_input:
        return " ".join(f"[{option.label}]" for option in outbound.options)
    lines = []
    for number, option in enumerate(outbound.options, start=1):
        label = option.label
        if not label.startswith(f"{number}. "):  # "1. Tổng số hộ" is numbered already
            label = f"{number}. {label}"
        lines.append(label)
    return "\n".join(lines)


def message_text(outbound: Outbound) -> str:
    """The text of a reply with its options below it."""
    return "\n\n".join(part for part in (outbound.text.strip("\n"), options_text(outbound))
                       if part)
