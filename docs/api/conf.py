"""Sphinx configuration of evalkit's API reference (built from the docstrings: `make docs`)."""

project = "evalkit"
author = "evalkit contributors"
extensions = ["sphinx.ext.autodoc", "numpydoc"]
numpydoc_show_class_members = False  # result classes list their attributes in prose
numpydoc_class_members_toctree = False
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the numpydoc sections say the types
html_theme = "alabaster"
html_static_path: list[str] = []
exclude_patterns = ["_build"]
