"""evalkit: programme evaluation kit for NGO programmes (CSI scoring, village trials,
pre/post analyses, HTML reports)."""

__version__ = "0.1.0"

from evalkit.errors import ConfigError, DataError, EvalkitError, ReportError  # noqa: E402

__all__ = ["ConfigError", "DataError", "EvalkitError", "ReportError", "__version__"]
