"""Option strings, matched the same way everywhere (programme.yml and the Python API): in any
case, and when refused, with the valid values and the nearest one."""

from __future__ import annotations

import difflib
from collections.abc import Sequence


def choose(value: object, choices: Sequence[str]) -> str | None:
    """The choice ``value`` names (any case, spaces trimmed), or None."""
    text = str(value).strip().lower()
    return next((c for c in choices if c.lower() == text), None)


def refusal(value: object, choices: Sequence[str]) -> str:
    """"is 'ancvoa' (did you mean 'ancova'?); expected one of 'ancova', 'did', 'endline'"."""
    near = difflib.get_close_matches(str(value).strip().lower(), [c.lower() for c in choices], n=1)
    hint = f" (did you mean {next(c for c in choices if c.lower() == near[0])!r}?)" if near else ""
    return f"is {value!r}{hint}; expected one of {', '.join(repr(c) for c in choices)}"


def option(value: object, choices: Sequence[str], name: str) -> str:
    """``value`` as one of ``choices`` (any case); a ValueError naming the option otherwise."""
    chosen = choose(value, choices)
    if chosen is None:
        raise ValueError(f"{name} {refusal(value, choices)}.")
    return chosen
