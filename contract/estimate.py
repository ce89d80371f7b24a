"""Cost known before the start: how long a job takes on this server, from the model's measured speed.

The model's time grows with the pixels it is given, so its speed is recorded as wall seconds per input
megapixel per picture, measured on this server for every model (``python -m bench.estimate``, figures in
``SECONDS_PER_MEGAPIXEL`` and docs/benchmarks.md). The rest of a run (decode, resize, encode) grows with
the output's pixels (``PIPELINE_S_PER_OUTPUT_MEGAPIXEL``), and a run starts with a fixed cost (the model
loaded, the file probed, the result muxed). The CLI prints the estimate before it starts and warns past
an hour; the backend stores it in the job (``estimate_s``).
"""

from __future__ import annotations

from contract.mediainfo import MediaInfo
from contract.messages import JobOptions
from contract.models import BY_ID
from contract.sizing import job_output_size

#: Seconds per input megapixel per picture on this server with nothing else running: the model's CPU
#: seconds spread over the host's 2 cores (AMD EPYC, AVX2 only, OpenVINO f32 in-process, 256x192 batches).
#: Measured by ``python -m bench.estimate`` on 2026-12-07 (docs/benchmarks.md); wall time stretches by the
#: host's load (other jobs, other processes).
SECONDS_PER_MEGAPIXEL: dict[str, float] = {
    "realesr-animevideov3-x4": 7.0,
    "realesr-animevideov3-x3": 7.4,
    "realesr-animevideov3-x2": 7.3,
    "realesrgan-x4plus": 212.0,
    "realesrgan-x4plus-anime": 84.0,
    "realcugan-se-x2": 15.5,
    "realcugan-se-x3": 30.3,
    "realcugan-se-x4": 19.0,
    "realcugan-pro-x2": 13.2,
    "realcugan-pro-x3": 29.2,
    "realcugan-nose-x2": 13.1,
}
#: The same in bf16, where the CPU computes it natively (contract/precision.py's ``auto`` runs bf16 there):
#: the model's CPU seconds over 2 cores of an Intel Xeon with AVX-512 BF16 and AMX, OpenVINO bf16 in-process.
#: Measured by ``python -m bench.estimate --precision bf16`` (docs/benchmarks.md). int8 runs only a model
#: whose int8 passed its gate (realesr-animevideov3-x4) and keeps the f32 figure: an estimate errs long.
BF16_SECONDS_PER_MEGAPIXEL: dict[str, float] = {
    "realesr-animevideov3-x4": 0.9,
    "realesr-animevideov3-x3": 1.37,
    "realesr-animevideov3-x2": 1.02,
    "realesrgan-x4plus": 28.0,
    "realesrgan-x4plus-anime": 8.9,
    "realcugan-se-x2": 2.05,
    "realcugan-se-x3": 4.07,
    "realcugan-se-x4": 2.59,
    "realcugan-pro-x2": 2.0,
    "realcugan-pro-x3": 3.89,
    "realcugan-nose-x2": 1.93,
}
#: Decode, deinterlace, resize the model's answer and encode, per megapixel of the larger of the model's
#: answer and the output, per picture. Fitted with ``FIXED_S`` to two CLI runs on this server
#: (docs/benchmarks.md: a 64x48 GIF and the 720x576 interlaced check), not measured on its own.
PIPELINE_S_PER_OUTPUT_MEGAPIXEL = 0.3
#: Paid once per run: the model compiled, the probe and field check, the mux.
FIXED_S = 3.0
#: Past this many seconds the CLI warns before it starts.
WARN_S = 3600.0


def seconds_per_megapixel(model: str, precision: str = "f32") -> float:
    """The model's measured speed in ``precision`` (bf16 or else f32's figures); an unmeasured model counts
    as the slowest measured one of its family."""
    figures = BF16_SECONDS_PER_MEGAPIXEL if precision == "bf16" else SECONDS_PER_MEGAPIXEL
    if model in figures:
        return figures[model]
    family = [s for name, s in figures.items() if name.split("-")[0] == model.split("-")[0]]
    return max(family or figures.values())


def slowdown(load: float, cores: int) -> float:
    """How much longer work takes on a host with ``load`` runnable tasks besides it: its share of the cores.

    A run wants every core (OpenVINO's threads); with ``load`` others runnable, the scheduler gives it
    ``cores / (load + cores)`` of them, so its wall time stretches by the inverse.
    """
    return max(1.0, (max(load, 0.0) + cores) / cores)


def estimate_s(
    info: MediaInfo,
    model: str,
    output: tuple[int, int],
    pictures: int,
    *,
    load: float = 0.0,
    cores: int = 2,
    precision: str = "f32",
) -> float:
    """Seconds a run of ``pictures`` pictures of ``info`` takes with ``model`` into ``output`` (w, h).

    ``load``: runnable tasks already on the host (the CLI passes the 1-minute load average; a queued
    job's estimate assumes an idle adapter host). ``precision``: what the model runs in (precision.choose).
    """
    scale = BY_ID[model].scale if model in BY_ID else 4
    model_mp = info.frame_width * info.frame_height / 1e6
    out_mp = output[0] * output[1] / 1e6
    # The model always runs at its native scale; a smaller output is a resize of its answer.
    native_mp = model_mp * scale * scale
    pipeline = PIPELINE_S_PER_OUTPUT_MEGAPIXEL * max(out_mp, native_mp)
    per_picture = seconds_per_megapixel(model, precision) * model_mp + pipeline
    return round(slowdown(load, cores) * (FIXED_S + pictures * per_picture), 1)


def job_estimate_s(
    info: MediaInfo, options: JobOptions, pictures: int, precision: str = "f32"
) -> float | None:
    """The estimate of an upscaling job's options (None when it does not upscale)."""
    if not options.upscale:
        return None
    size = job_output_size(options, info.frame_width, info.frame_height, sar=info.sar, rotation=info.rotation)
    return estimate_s(info, options.model, size, pictures, precision=precision)
