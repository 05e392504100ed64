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
def rendered_collection(synthetic_root, tmp_path_factory):
    """Every synthetic programme rendered as `make reports` does (two worker processes),
    with the synthesis report and the index."""
    from evalkit.config import discover
    from evalkit.report.collection import render_collection

    out = tmp_path_factory.mktemp("reports")
    results, synthesis, index = render_collection(discover(synthetic_root), out, jobs=2)
    for result in results + [synthesis]:
        assert result.ok, result.error
    return results, synthesis, index


@pytest.fixture(scope="session")
def rendered(rendered_collection) -> dict[str, Path]:
    """Programme key -> rendered report path."""
    results, _, _ = rendered_collection
    return {r.programme: r.html for r in results}
