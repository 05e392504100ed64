"""The output types by which the report notebook hands its editions, tables and headline
records to the renderer (light: the rendering command reads them without loading the report
code)."""

EDITIONS_MIME = "application/vnd.evalkit.editions+json"
"""Every edition's HTML of one part of the page, by language."""
TABLES_MIME = "application/vnd.evalkit.tables+json"
"""The report's tables as its pages show them, by language."""
HEADLINE_MIME = "application/vnd.evalkit.headline+json"
"""The structured headline record of each edition, by language."""
