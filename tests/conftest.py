"""Shared fixtures: synthetic data and rendered reports are built once per test session in a
temporary folder, never in the working tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit import synth

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synthetic")
    synth.write_all(root)
    return root


@pytest.fixture(scope="session")
def rendered(synthetic_root, tmp_path_factory) -> dict[str, Path]:
    """Every synthetic programme rendered to HTML: programme key -> report path."""
    from evalkit.report.render import render_programme

    out = tmp_path_factory.mktemp("reports")
    paths = {}
    for folder in sorted(p for p in synthetic_root.iterdir() if p.is_dir()):
        result = render_programme(folder, out)
        assert result.ok, result.error
        paths[folder.name] = result.html
    return paths
