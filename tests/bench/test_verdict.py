"""The auto-strength verdicts: gap to the best fixed strength per class, fidelity misses on clean clips."""

from __future__ import annotations

from typing import Any

from bench.verdict import verdicts


def row(source: str, level: str, method: str, strength: Any, score: float, psnr: float) -> dict[str, Any]:
    return {
        "source": source,
        "kind": "photo",
        "role": "report",
        "level": level,
        "method": method,
        "strength": strength,
        "brisque": score,
        "psnr_db": psnr,
    }


def test_gap_is_measured_against_the_best_single_fixed_strength() -> None:
    table = [row(src, "light", "bicubic", None, 40.0, 30.0) for src in ("a", "b")]
    for src, shift in (("a", 0.0), ("b", 2.0)):
        for strength, score in ((0.25, 44.0), (0.5, 42.0), (0.75, 40.0), (1.0, 41.0)):
            table.append(row(src, "light", "m", strength, score + shift, 30.0))
    table.append(row("a", "light", "m", "auto", 41.0, 30.0))  # mean 42.0 vs best (0.75) 41.0: +2.4 %
    table.append(row("b", "light", "m", "auto", 43.0, 29.2))  # 0.8 dB below bicubic on a clean clip
    result = verdicts(table, "brisque")
    (only,) = result["classes"]
    assert only["best_fixed"] == 0.75 and only["gap_pct"] == 2.4 and only["meets"]
    assert result["missed_classes"] == []
    assert result["fidelity_misses"] == [{"model": "m", "source": "b", "below_bicubic_db": 0.8}]
    table[-1]["brisque"] = 50.0  # auto mean 45.5: 11 % worse
    assert verdicts(table, "brisque")["missed_classes"][0]["gap_pct"] == 11.0
