"""Error types of evalkit.

Every error a user can cause with their data or configuration is an :class:`EvalkitError`
whose message is one sentence naming the file (or frame), the row, the column and what was
expected. The command line prints that sentence and exits with status 2; it never shows a
traceback for these errors.
"""

from __future__ import annotations


class EvalkitError(Exception):
    """Base class of the errors evalkit raises for bad input or configuration."""


class DataError(EvalkitError, ValueError):
    """A data file or frame does not hold what was expected (names file, row, column, value)."""


class ConfigError(EvalkitError, ValueError):
    """A programme configuration is missing or wrong."""


class ReportError(EvalkitError, RuntimeError):
    """A report could not be rendered (names the programme, the cell and the error)."""
