"""``python -m adapter describe INPUT -o OUTPUT --lang ru|en``: add an audio-description track."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from adapter.description.engine import build_describer, describe
from adapter.errors import JobError
from adapter.settings import AdapterSettings
from contract.messages import DESCRIBE_DENSITIES


def main(argv: list[str] | None = None) -> int:
    """Run ``describe``; print the cues, or one line of reason and exit 1."""
    parser = argparse.ArgumentParser(prog="python -m adapter describe", description=__doc__)
    parser.add_argument("input", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True, help=".mp4, .m4v, .mov or .mkv")
    parser.add_argument("--lang", choices=("ru", "en"), required=True)
    parser.add_argument(
        "--track",
        choices=("mix", "speech"),
        default="mix",
        help="description track = original ducked under the voice (mix) or the voice alone",
    )
    parser.add_argument("--density", choices=DESCRIBE_DENSITIES, default="normal", help="how much is said")
    parser.add_argument(
        "--read-subtitles",
        action="store_true",
        help="also read burned-in dialogue subtitles (for foreign-language videos)",
    )
    args = parser.parse_args(argv)
    if args.input.resolve() == args.output.resolve():
        print("error: the output must not overwrite the input", file=sys.stderr)
        return 1
    settings = AdapterSettings()
    try:
        describer = build_describer(
            settings.DESCRIPTION_DETECTOR_ONNX,
            settings.DESCRIPTION_CAPTIONER_ONNX,
            settings.DESCRIPTION_MIN_SCORE,
        )
        result = describe(
            args.input,
            args.output,
            lang=args.lang,
            mode=args.track,
            describer=describer,
            density=args.density,
            read_subtitles=args.read_subtitles,
        )
    except JobError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for cue in result.cues:
        print(f"{cue.start:8.2f} {cue.end:8.2f} {'ducked' if cue.ducked else 'pause '} {cue.text}")
    for note in result.notes:
        print(f"note: {note}")
    written = "" if result.vtt_path is None else f" and {result.vtt_path}"
    print(f"wrote {result.output_path}{written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
