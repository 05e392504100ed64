"""The frozen CSI expectations (frozen/csi_expected.json), which the engine is held to on
DuckDB and Spark, are what an independent hand computation in plain pandas gives
(frozen/generate.py): no number in the file rests on an implementation that no longer
exists."""

from __future__ import annotations

import json
import math
from pathlib import Path

from tests.indices.frozen.generate import _plain, expected

FROZEN = Path(__file__).parent / "frozen" / "csi_expected.json"


def _close(ours, frozen, path: str) -> None:
    if isinstance(frozen, dict):
        assert set(ours) == set(frozen), path
        for key in frozen:
            _close(ours[key], frozen[key], f"{path}/{key}")
    elif isinstance(frozen, list):
        assert len(ours) == len(frozen), path
        for i, (a, b) in enumerate(zip(ours, frozen)):
            _close(a, b, f"{path}[{i}]")
    elif isinstance(frozen, float) or (isinstance(frozen, int) and not isinstance(frozen, bool)):
        assert ours is not None and math.isclose(float(ours), float(frozen), rel_tol=1e-12,
                                                 abs_tol=1e-12), (path, ours, frozen)
    else:
        assert ours == frozen, (path, ours, frozen)


def test_every_frozen_value_is_what_the_hand_computation_gives():
    frozen = json.loads(FROZEN.read_text())
    ours = _plain(expected())
    assert set(ours) == set(frozen) == {"messy_text", "numeric_named_rounds"}
    for case in frozen:
        assert set(ours[case]) == set(frozen[case]) == {
            "score", "change_table", "change_counts", "flagged_by_round", "paired_flagged"}
        _close(ours[case], frozen[case], case)
