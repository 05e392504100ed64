"""evalkit: programme evaluation kit for NGO programmes (CSI scoring, village trials,
pre/post analyses, HTML reports)."""

__version__ = "0.1.0"

from evalkit.errors import ConfigError, DataError, EvalkitError, ReportError  # noqa: E402

__all__ = ["ConfigError", "DataError", "EvalkitError", "ReportError", "__version__"]


def load_programme(folder, **options):
    """A programme folder loaded as its report loads it: ``programme.yml`` read by the report
    sections, every data file it names read, validated and pseudonymised (see
    :func:`evalkit.data.programme.load` for ``options``)."""
    from evalkit.data.programme import load
    from evalkit.report.sections import REGISTRY

    return load(folder, REGISTRY, **options)


def load_config(folder, language=None):
    """A programme's configuration, read by the report sections (no data read)."""
    from evalkit.config import load
    from evalkit.report.sections import REGISTRY

    return load(folder, REGISTRY, language)


__all__ += ["load_programme", "load_config"]
