"""The output side of privacy: outputs scanned for personal values.

Personal columns are dropped and IDs hashed as the data are read (:mod:`evalkit.data.personal`);
small groups are suppressed by :mod:`evalkit.report.disclosure`. :func:`leaked` finds any of
the input's personal values (the data-in layer's canaries) in a rendered file, so that a report
or notebook that would leak one is refused, not written.
"""

from __future__ import annotations

from collections.abc import Iterable


def leaked(text: str, canaries: Iterable[str]) -> list[str]:
    """The personal values (``canaries``) that occur in ``text``."""
    return sorted(value for value in canaries if value and value in text)
