"""``python -m adapter upscale``: upscale a local video and/or add an audio description, without servers."""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import functools
import os
import signal
import sys
import time
from pathlib import Path
from typing import TextIO, get_args

from pydantic import ValidationError

from adapter.errors import JobCancelled, JobError, LimitExceededError, ModelContractError
from adapter.inference.upscalers import local_precision, make_upscaler
from adapter.job import Stages, Toolbox, Work, execute
from adapter.limits import Limits
from adapter.settings import AdapterSettings
from adapter.video.pipeline import run
from adapter.video.stages import Describe, DescriberFactory, OnProgress, Progress, Result, probe_input
from contract import storage
from contract.container import (
    CONTAINER_OPTIONS,
    SUFFIXES,
    Container,
    container_for,
    container_of_suffix,
    container_option,
)
from contract.estimate import WARN_S, estimate_s, seconds_per_megapixel, slowdown
from contract.interlace import DEINTERLACE_OPTIONS
from contract.messages import DESCRIBE_DENSITIES, DESCRIBE_LANGUAGES, JobOptions, Preset
from contract.models import DEFAULT_MODEL, MODELS
from contract.precision import PRECISIONS, host_precision
from contract.probe import probe as ffprobe
from contract.sizing import SizeRefused, job_output_size

#: Fewest seconds without a progress report before a frozen CLI dumps its stacks and exits.
BACKSTOP_MIN_S = 60.0


class ProgressBar:
    """A one-line text progress bar redrawn in place on a terminal, a line per 10 % otherwise."""

    def __init__(self, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self._stream, self._width = stream, width
        self._tty = stream.isatty()
        self._shown = -1

    def __call__(self, progress: Progress, /) -> None:
        share = progress.frames_done / progress.frames_total if progress.frames_total else 0.0
        eta = f"{progress.eta_s:.0f}s" if progress.eta_s is not None else "?"
        filled = int(share * self._width)
        line = (
            f"[{'#' * filled}{'.' * (self._width - filled)}] {progress.frames_done}/{progress.frames_total} "
            f"frames {progress.fps:.1f} fps ETA {eta}"
        )
        if self._tty:
            self._stream.write(f"\r{line}")
        elif int(share * 10) > self._shown:
            self._shown = int(share * 10)
            self._stream.write(f"{line}\n")
        self._stream.flush()

    def finish(self) -> None:
        """End the redrawn line."""
        if self._tty:
            self._stream.write("\n")


def parser() -> argparse.ArgumentParser:
    """Arguments of the ``upscale`` command."""
    cli = argparse.ArgumentParser(
        prog="python -m adapter upscale",
        description="Upscale a video with Real-ESRGAN and/or add an audio description track.",
    )
    cli.add_argument("input", type=Path, help="input video file")
    cli.add_argument("-o", "--output", type=Path, required=True, help="output .mp4 file")
    cli.add_argument("--model", default=DEFAULT_MODEL, choices=list(MODELS))
    size = cli.add_mutually_exclusive_group()
    size.add_argument(
        "--scale", type=int, choices=(1, 2, 3, 4), help="output size as a multiple of the input"
    )
    size.add_argument("--height", type=int, help="output height in pixels (aspect kept)")
    cli.add_argument(
        "--strength",
        type=_strength,
        default=1.0,
        help="restoration strength 0..1 (blend with a Lanczos resize) or auto (default 1: the model alone)",
    )
    cli.add_argument(
        "--denoise", type=int, default=None, help="Real-CUGAN denoise level: -1 conservative, 0 none, 1-3"
    )
    cli.add_argument("--crf", type=int, default=18, help="encoder quality, lower is better (default 18)")
    cli.add_argument(
        "--preset",
        default="auto",
        choices=get_args(Preset),
        help="encoder preset (default auto: ultrafast when the model runs on the CPU, else veryfast)",
    )
    cli.add_argument("--encoder", default="libx264", choices=("libx264", "libx265", "h264_nvenc"))
    cli.add_argument(
        "--triton-url", default=None, help="Triton gRPC HOST:PORT; in-process inference when omitted"
    )
    cli.add_argument(
        "--backend",
        default="auto",
        choices=("auto", "triton", "torch", "local"),
        help="auto: Triton with --triton-url, else PyTorch on a CUDA device, else ONNX (OpenVINO) in-process",
    )
    cli.add_argument(
        "--device", default=None, choices=("cuda", "cpu"), help="PyTorch device (--backend torch)"
    )
    cli.add_argument(
        "--precision",
        default="auto",
        choices=PRECISIONS,
        help="in-process model: auto (bf16 on CPUs with native bf16, else int8 where its quality gate "
        "passed, else f32), f32, bf16 or int8",
    )
    cli.add_argument(
        "--models-dir",
        type=Path,
        default=AdapterSettings.defaults().MODELS_DIR,
        help="folder of <model>.onnx files",
    )
    cli.add_argument("--timeout", type=float, default=120, help="seconds allowed for one inference call")
    cli.add_argument(
        "--max-duration", type=float, default=Limits.max_duration_s, help="longest input accepted (s)"
    )
    cli.add_argument(
        "--describe",
        choices=DESCRIBE_LANGUAGES,
        help="also add a spoken description track in this language (and OUTPUT.vtt beside the output)",
    )
    cli.add_argument(
        "--density",
        choices=DESCRIBE_DENSITIES,
        default="normal",
        help="how much is said (brief: text and people; detailed: more objects, text read more often)",
    )
    cli.add_argument(
        "--no-upscale", action="store_true", help="keep the video as it is (only with --describe)"
    )
    cli.add_argument(
        "--deinterlace",
        default="auto",
        choices=DEINTERLACE_OPTIONS,
        help="interlaced input: auto (look at the file), off, frame (one picture per frame), "
        "field (one per field: 50i becomes 50p; what auto does)",
    )
    cli.add_argument(
        "--container",
        default="auto",
        choices=CONTAINER_OPTIONS,
        help="auto: MP4, or MKV (the output's suffix becomes .mkv) when the input has subtitles MP4 "
        "cannot keep (pictures, or styles with fonts); mp4 or mkv: that one, as the output's suffix says; "
        "gif or webp: an animated image (picture only, transparency kept)",
    )
    cli.add_argument(
        "--background",
        default="#000000",
        help="colour (#rrggbb) that an animated image's transparent pixels lie on where the output "
        "has no transparency (default black)",
    )
    cli.add_argument(
        "--hdr",
        default="keep",
        choices=("keep", "sdr"),
        help="HDR input (PQ, HLG): keep it HDR (10-bit HEVC, default) or tone-map it to SDR (BT.709, 8-bit)",
    )
    cli.add_argument(
        "--regions",
        default="off",
        choices=["off", "auto"],
        help="auto: run the model only on the parts of a frame that changed (docs/pipeline.md)",
    )
    cli.add_argument("--quiet", action="store_true", help="no progress bar")
    return cli


def _check_output(args: argparse.Namespace) -> str | None:
    """Why the output's name does not fit the asked container (None: it fits)."""
    named = container_of_suffix(args.output.suffix)
    if named is None:
        return "the output must be an .mp4, .mkv, .gif or .webp file"
    if args.container != "auto" and named != args.container:
        return f"--container {args.container} needs an output ending in {SUFFIXES[args.container]}"
    return None


def _resolve_container(args: argparse.Namespace, limits: Limits) -> Container:
    """The container to write; under ``auto`` an .mp4 output becomes .mkv where MP4 would lose subtitles."""
    named = container_of_suffix(args.output.suffix) or "mp4"
    if args.container != "auto" or named != "mp4":
        return named
    info = probe_input(ffprobe, args.input, limits)
    chosen = container_for("auto", info.subtitle_codecs, info.attachments)
    args.output = args.output.with_suffix(SUFFIXES[chosen])
    return chosen


def _stages(args: argparse.Namespace) -> Stages:
    """The job's collaborators; the description model comes from DESCRIPTION_* in the environment."""
    describe_fn: Describe | None = None
    make_describer: DescriberFactory | None = None
    if args.describe:
        # Imported only when asked for: scene detection and the detector are not needed to upscale.
        from adapter.description import build_describer, describe

        settings = AdapterSettings()
        describe_fn = describe
        make_describer = functools.partial(
            build_describer,
            settings.DESCRIPTION_DETECTOR_ONNX,
            settings.DESCRIPTION_CAPTIONER_ONNX,
            settings.DESCRIPTION_MIN_SCORE,
        )
    return Stages(
        run_pipeline=run,
        make_upscaler=functools.partial(
            make_upscaler,
            triton_url=args.triton_url,
            models_dir=args.models_dir,
            timeout_s=args.timeout,
            backend=args.backend,
            device=args.device,
            precision=args.precision,
        ),
        describe=describe_fn,
        make_describer=make_describer,
    )


def _report(args: argparse.Namespace, result: Result, started: float) -> str:
    line = (
        f"{args.output}: {result.frames} frames, {result.width}x{result.height}, {result.seconds:.2f} s "
        f"({time.monotonic() - started:.1f} s in all, model loading included)"
    )
    line += f"; description cues in {result.vtt}" if result.vtt is not None else ""
    return "\n".join([line, *(f"note: {note}" for note in result.notes)])


class Backstop:
    """The last resort against a frozen process: progress reports re-arm faulthandler's own timer.

    Reports come every half second while frames remain, even when none moves (the pipeline's own
    deadlines handle a stuck model). They stop only when the main thread itself is frozen, say by a
    native deadlock holding the GIL; then faulthandler's C thread, which needs no GIL, prints every
    stack and exits with status 1 after ``seconds``.
    """

    def __init__(self, seconds: float, then: OnProgress) -> None:
        self.seconds, self._then = seconds, then

    def __call__(self, progress: Progress, /) -> None:
        # Once every frame is in, the mux follows with its own time limit: the timer is not needed.
        with contextlib.suppress(OSError, ValueError):  # an stderr without a descriptor: no backstop
            if progress.frames_done < progress.frames_total:
                faulthandler.dump_traceback_later(self.seconds, exit=True)
            else:
                faulthandler.cancel_dump_traceback_later()
        self._then(progress)

    @staticmethod
    def stop() -> None:
        """Disarm the timer."""
        faulthandler.cancel_dump_traceback_later()


def _register_stack_dump() -> None:
    """SIGUSR1 prints every thread's stack to stderr, so a hung run can be diagnosed (bench/soak.py)."""
    # An stderr without a file descriptor (captured in-process) cannot take a dump: skip it then.
    if hasattr(signal, "SIGUSR1"):
        with contextlib.suppress(OSError, ValueError):
            faulthandler.register(signal.SIGUSR1, all_threads=True)


def _estimate(args: argparse.Namespace, options: JobOptions, limits: Limits) -> str:
    """One line: how long the job should take on this server; a second, a warning, past an hour."""
    info = probe_input(ffprobe, args.input, limits)
    interlaced = info.field_order in ("tt", "bb", "tb", "bt")
    fields = options.deinterlace == "field" or (options.deinterlace == "auto" and interlaced)
    pictures = info.frames * (2 if fields else 1)
    try:
        stored = (info.frame_width, info.frame_height)
        size = job_output_size(options, *stored, sar=info.sar, rotation=info.rotation)
    except SizeRefused as exc:
        raise LimitExceededError(exc.reason) from exc
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    precision = host_precision(args.precision)  # int8 keeps f32's (longer) figure
    seconds = estimate_s(info, options.model, size, pictures, load=load, cores=cores, precision=precision)
    speed = seconds_per_megapixel(options.model, precision)
    line = (
        f"estimate: about {_duration(seconds)} on this server ({info.width}x{info.height} -> "
        f"{size[0]}x{size[1]}, {pictures} pictures, {options.model} at {speed:g} s per megapixel "
        f"in {precision}, "
        f"load {load:.1f} on {cores} cores: x{slowdown(load, cores):.1f})"
    )
    if seconds > WARN_S:
        line += f"\nwarning: this job should take more than an hour ({_duration(seconds)}); a smaller "
        line += "--scale or --height, or a faster --model, takes less"
    return line


def _duration(seconds: float) -> str:
    """``42 s``, ``3 min 20 s``, ``2 h 05 min``."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def _strength(text: str) -> float | str:
    """``--strength``: ``auto`` or a number (its range is JobOptions' to check)."""
    return "auto" if text.strip().lower() == "auto" else float(text)


def main(argv: list[str] | None = None) -> int:
    """Run the command: 0 done, 1 bad input or failure, 2 bad arguments, 130 interrupted."""
    args = parser().parse_args(argv)
    _register_stack_dump()
    wrong = _check_output(args)
    if wrong is not None:
        print(f"error: {wrong}", file=sys.stderr)
        return 2
    limits = Limits(max_duration_s=args.max_duration, inference_timeout_s=args.timeout)
    try:
        options = JobOptions(
            model=args.model,
            scale=args.scale,
            height=args.height,
            crf=args.crf,
            preset=args.preset,
            encoder=args.encoder,
            upscale=not args.no_upscale,
            describe=args.describe,
            density=args.density,
            deinterlace=args.deinterlace,
            regions=args.regions,
            container=container_option(args.container) or "auto",
            background=args.background.lower(),
            hdr=args.hdr,
            strength=args.strength,
            denoise=args.denoise,
        )
    except ValidationError as exc:
        print(f"error: {exc.errors()[0]['msg']}", file=sys.stderr)
        return 2
    try:  # bad arguments first (exit 2), then what the file itself says (exit 1)
        options = options.model_copy(update={"container": _resolve_container(args, limits)})
    except JobError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if options.upscale:
        try:
            estimate = _estimate(args, options, limits)
            if not args.quiet:  # --quiet: only the error, if any
                print(estimate, file=sys.stderr)
        except JobError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    bar = None if args.quiet else ProgressBar()
    started = time.monotonic()
    # The upscaled video waits here, hidden, while the description is added to it.
    intermediate = storage.temporary(args.output, "upscaled")
    work = Work(args.input, args.output, None, intermediate, options, limits)
    tools = Toolbox(_stages(args))
    report: OnProgress = bar or (lambda _progress: None)
    if not args.describe:  # the description's steps report too seldom for a timer
        report = Backstop(max(BACKSTOP_MIN_S, 3 * args.timeout), report)
    try:
        try:
            result = execute(work, tools.stages, tools, report, lambda: False)
        finally:
            Backstop.stop()
            tools.close()
            intermediate.unlink(missing_ok=True)
    except (JobError, ModelContractError) as exc:
        if bar:
            bar.finish()
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, JobCancelled):
        if bar:
            bar.finish()
        print("interrupted; no output written", file=sys.stderr)
        return 130
    if bar:
        bar.finish()
    if not args.quiet and not args.triton_url and args.backend in ("auto", "local"):
        choice = local_precision(args.model, args.models_dir, args.precision)[1]
        print(f"precision: {choice.precision} ({choice.reason})", file=sys.stderr)
    print(_report(args, result, started), file=sys.stderr)
    return 0
