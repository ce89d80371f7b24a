"""``python -m adapter upscale --strength/--denoise``: parsed into the job options, bad values refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapter.cli import main, parser


def test_strength_and_denoise_are_parsed(tmp_path: Path) -> None:
    args = parser().parse_args(
        [str(tmp_path / "in.mp4"), "-o", "o.mp4", "--strength", "AUTO", "--denoise", "2"]
    )
    assert args.strength == "auto" and args.denoise == 2
    args = parser().parse_args([str(tmp_path / "in.mp4"), "-o", "o.mp4", "--strength", "0.3"])
    assert args.strength == 0.3 and args.denoise is None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--strength", "1.5"], "strength must be between 0 and 1"),
        (["--model", "realcugan-pro-x2", "--denoise", "2"], "denoise levels [-1, 0, 3]"),
    ],
)
def test_bad_values_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    code = main([str(tmp_path / "in.mp4"), "-o", str(tmp_path / "o.mp4"), *extra])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o.mp4").exists()
