"""GPU benchmark for a lent machine: end-to-end pipeline frames/s first, then model-only, then graphs/compile.

In order of value, so that a run cut short by ``--budget-s`` still answers the main question:
1. ``e2e``: frames/s of the whole pipeline (decode → TorchUpscaler → resize → x264 → ffmpeg mux) on a
   generated 480p clip, realesr-animevideov3-x4 and realesrgan-x4plus, with 1, 2 and 4 pipelines sharing
   the device; beside it the model-only frames/s on the same frames and batches, the device's busy share
   (CUDA events; NVML utilisation when ``pynvml`` imports) and the process's CPU use;
   ``x264`` rows: the encoder alone at the output size, 1 and 4 at once (the CPU's ceiling).
2. ``model``: model-only frames/s for each model at 480p and 720p, batch 1/4/8, fp16 and bf16, peak memory.
3. ``graphs``: eager vs CUDA graph vs ``torch.compile`` at 480p batch 4 (device time only, no copies).
Writes ``<out>/gpu.json`` after every row and prints each row, then a summary table.

Run (here): ``python -m bench.gpu --device cpu --quick --out /tmp/gpu``; on a lent GPU see docs/gpu.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import kit


def parse(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options; ``--quick`` shrinks everything to a CPU smoke test."""
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    cli.add_argument(
        "--budget-s", type=float, default=240, help="wall seconds for the whole run (default 240)"
    )
    cli.add_argument("--out", type=Path, default=None, help="folder for gpu.json (written after every row)")
    cli.add_argument("--quick", action="store_true", help="tiny sizes, one model: a smoke test for CI")
    cli.add_argument("--seconds", type=float, default=None, help="seconds per model-only figure")
    args = cli.parse_args(argv)
    from bench.gpu_parts import E2E_MODELS, SIZES
    from contract.messages import MODELS

    if args.quick:
        args.e2e_size, args.e2e_frames, args.e2e_models, args.pipelines = (128, 72), 8, E2E_MODELS[:1], (1, 2)
        args.models, args.sizes, args.batches = E2E_MODELS[:1], ("64x48",), (1, 2)
        args.seconds = args.seconds or 0.5
    else:
        args.e2e_size, args.e2e_frames, args.e2e_models, args.pipelines = (
            SIZES["480p"],
            100,
            E2E_MODELS,
            (1, 2, 4),
        )
        others = tuple(model for model in MODELS if model not in E2E_MODELS)
        args.models, args.sizes, args.batches = E2E_MODELS + others, ("480p", "720p"), (1, 4, 8)
        args.seconds = args.seconds or 2.0
    args.dtypes = ("fp16", "bf16") if args.device == "cuda" else ("fp32",)
    return args


def meta(args: argparse.Namespace) -> dict[str, Any]:
    """What ran where."""
    import torch

    from bench.gpu_parts import cpu_name, now

    cuda = args.device == "cuda"
    return {
        "started": now(),
        "device": torch.cuda.get_device_name(0) if cuda else "cpu",
        "torch": torch.__version__,
        "cuda": torch.version.cuda if cuda else None,
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "budget_s": args.budget_s,
        "quick": args.quick,
        "ffmpeg": os.environ.get("FFMPEG_BINARY") or "ffmpeg",
    }


def main(argv: list[str] | None = None) -> int:
    """Run the sections in order of value until the budget runs out; print the rows and a summary."""
    weights = kit.activate()
    if absent := kit.missing():
        print(f"missing: {', '.join(absent)}; carry and unpack the kits first (docs/gpu.md)", file=sys.stderr)
        return 2
    args = parse(argv)
    args.weights = weights
    from bench.gpu_parts import Budget, Record

    budget = Budget(args.budget_s)
    record = Record(args.out, meta(args))
    with tempfile.TemporaryDirectory() as folder:
        from bench.gpu_e2e import section_e2e
        from bench.gpu_model import section_graphs, section_model

        for section in (section_e2e, section_model, section_graphs):
            try:
                if budget.allows(5):
                    section(args, record, budget, *([Path(folder)] if section is section_e2e else []))
                else:
                    record.skip(section.__name__, "budget")
            except Exception as exc:  # one broken section must not cost the others their figures
                record.skip(section.__name__, f"failed: {type(exc).__name__}: {exc}")
                import traceback

                traceback.print_exc()
    record.finish()
    print(summary(record.data["rows"]))
    return 0


def summary(rows: list[dict[str, Any]]) -> str:
    """A fixed-width table of all rows, one section after another."""
    lines = []
    for section in ("e2e", "x264", "model", "graphs"):
        chosen = [row for row in rows if row["section"] == section]
        if not chosen:
            continue
        keys = [key for key in chosen[0] if key != "section"]
        widths = [max(len(key), *(len(str(row.get(key))) for row in chosen)) for key in keys]
        lines.append(f"## {section}")
        lines.append(" | ".join(key.rjust(width) for key, width in zip(keys, widths, strict=True)))
        lines += [
            " | ".join(str(row.get(k)).rjust(w) for k, w in zip(keys, widths, strict=True)) for row in chosen
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
