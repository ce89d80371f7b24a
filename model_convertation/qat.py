"""Quantization-aware fine-tuning of a compact network against its own f32 answers (distillation).

Post-training quantization cannot pass the int8 gate for these networks: ranges wide enough for saturated
colours draw new steps on flat gradients, and ranges fine enough for gradients clip saturated colours
(docs/benchmarks.md, "int8"; ``bench/int8_bits.py``). Here the f32 network is the teacher, and a copy whose
convolutions compute the way the QDQ graph does is fine-tuned to answer like it:
- weights: symmetric per output channel, 8 bits (the first layer on NNCF's 7-bit overflow-fix grid);
- activations: asymmetric per tensor, 8 bits, each range learned (LSQ: the step is a parameter and
  rounding passes gradients straight through), starting from the recipe's calibrated quantiles;
- the input pixels: on their exact 1/255 grid, which loses nothing.
It learns on crops of the training pictures in the three kinds, saturated synthetic graphics and 8-bit
ramps; on the ramps the error's profile along the ramp is also kept flat, since a jump in it is a new step
(the gate's banding). Over the schedule's second half, checkpoints are scored on held-out ramps and shapes
(``Validation``: new steps by the gate's rule, then PSNR lost) and the best is kept, since nearby checkpoints
differ by whole steps. Seeded; the gate judges the result on each host as it judges any.
The build's recipe for the compact networks (``quantize.fine_tunes``): ≈ 25 min a model on one core, the
figures in docs/benchmarks.md ("int8", fine-tuning).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from model_convertation import calibration, gate

LOG = logging.getLogger(__name__)

STEPS = 1500
SEED = 0
#: Share of activation values outside each starting range, per end (the learned ranges move from there).
OUTLIER_PROB = 2e-3
LEARNING_RATE = 1e-5  # weights, biases and PReLU slopes: a nudge, not a new model
RANGE_LEARNING_RATE = 1e-4
#: Weight of the ramps' error-profile term against the mean squared error (both in code values²).
BANDING_WEIGHT = 1000.0
CROP = 40  # input pixels; the receptive field of the 18 convolutions is 37
BATCH = 8
RAMPS = 4  # ramps per step for the banding term
#: Share of crops that are synthetic (graphics or ramps) rather than from the training pictures.
SYNTHETIC_SHARE = 0.4
LEVELS = 255
#: Checkpoints are compared every so many steps over the last half of the schedule; the best one is kept.
VALIDATE_EVERY = 50
VALIDATION_SEED = 1000  # ramps and shapes no training batch and no gate case draws
VALIDATION_RAMPS = 16
VALIDATION_SHAPES = 8


@dataclass(frozen=True)
class Grid:
    """A learned activation grid: value = (code - zero_point) · scale, codes 0…255."""

    scale: float
    zero_point: int


@dataclass(frozen=True, eq=False)
class Rounding:
    """How one convolution rounds: its input's grid, and its weights' int8 codes and per-channel scales."""

    grid: Grid
    codes: np.ndarray  # int8, the weight's shape
    scales: np.ndarray  # float32, one per output channel


def _round(value: torch.Tensor) -> torch.Tensor:
    """Round with a straight-through gradient."""
    return value + (torch.round(value) - value).detach()


class FakeQuantConv(nn.Module):
    """A convolution whose input and weights are rounded the way the QDQ graph's int8 convolution does."""

    def __init__(self, conv: nn.Conv2d, low: float, high: float, *, first: bool) -> None:
        super().__init__()
        self.conv, self.first = conv, first
        step = (high - low) / LEVELS
        self.scale = nn.Parameter(torch.tensor(step), requires_grad=not first)
        self.zero = nn.Parameter(torch.tensor(float(round(-low / step))), requires_grad=not first)
        # NNCF's overflow fix keeps the first layer's weights on half the grid (u8 × s8 pairs on CPUs without
        # VNNI would overflow 16 bits); the others use the whole signed range.
        self.weight_top = 64 if first else 127
        self.weight_levels = 63.5 if first else 127.0

    def grid(self) -> Grid:
        """The learned input grid."""
        if self.first:
            return Grid(1 / LEVELS, 0)
        return Grid(float(self.scale.detach()), int(torch.round(self.zero.detach()).clamp(0, LEVELS)))

    def rounded_weight(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(the weights as rounded, gradients passing straight through; their per-channel scales)."""
        weight = self.conv.weight
        scale = weight.detach().abs().amax(dim=(1, 2, 3)).clamp_min(1e-12) / self.weight_levels
        zeros = torch.zeros(scale.numel(), dtype=torch.int32)
        top = self.weight_top
        return torch.fake_quantize_per_channel_affine(weight, scale, zeros, 0, -top, top), scale

    def rounding(self) -> Rounding:
        """The grid and weight codes the QDQ graph is given, exactly as this rounds them."""
        weight, scale = (t.detach() for t in self.rounded_weight())
        codes = torch.round(weight / scale[:, None, None, None]).to(torch.int8).numpy()
        return Rounding(self.grid(), codes, scale.numpy().astype(np.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Rounded input and weights, then the convolution in float."""
        if self.first:
            x = torch.fake_quantize_per_tensor_affine(x, 1 / LEVELS, 0, 0, LEVELS)
        else:
            zero = _round(self.zero).clamp(0, LEVELS)
            x = (torch.clamp(_round(x / self.scale) + zero, 0, LEVELS) - zero) * self.scale
        weight, _ = self.rounded_weight()
        return F.conv2d(x, weight, self.conv.bias, self.conv.stride, self.conv.padding)


def _pixels(frames: np.ndarray) -> torch.Tensor:
    """uint8 NHWC → float NCHW in [0, 1]."""
    # A copy: pictures from PIL are read-only, which torch warns about.
    return torch.from_numpy(np.array(frames, dtype=np.uint8)).float().permute(0, 3, 1, 2) / LEVELS


def _convolutions(network: nn.Module) -> list[tuple[nn.Module, str, nn.Conv2d]]:
    """(parent, attribute, convolution) for every convolution, in order."""
    found = []
    for parent in network.modules():
        for name, child in parent.named_children():
            if isinstance(child, nn.Conv2d):
                found.append((parent, name, child))
    return found


def input_ranges(
    network: nn.Module, frames: list[np.ndarray], outlier: float
) -> dict[nn.Conv2d, tuple[float, float]]:
    """Each convolution's input range: the mean of per-frame quantiles (min/max for 0), widened to hold 0
    (like NNCF's)."""
    seen: dict[nn.Conv2d, list[tuple[float, float]]] = {}

    def hook(conv: nn.Module, args: tuple[torch.Tensor]) -> None:
        flat = args[0].detach().flatten()[::3]  # torch.quantile's size limit; the same quantiles
        bounds = (float(torch.quantile(flat, outlier)), float(torch.quantile(flat, 1 - outlier)))
        seen.setdefault(conv, []).append(bounds)  # type: ignore[arg-type]

    handles = [conv.register_forward_pre_hook(hook) for _, _, conv in _convolutions(network)]
    with torch.no_grad():
        for frame in frames:
            network(_pixels(frame))
    for handle in handles:
        handle.remove()
    return {
        conv: (min(0.0, float(np.mean([lo for lo, _ in b]))), max(0.0, float(np.mean([hi for _, hi in b]))))
        for conv, b in seen.items()
    }


def _crops(rng: np.random.Generator, pool: list[np.ndarray]) -> np.ndarray:
    """One batch: crops of the training pictures, synthetic graphics and ramps in any direction."""
    batch = []
    for _ in range(BATCH):
        if rng.random() < SYNTHETIC_SHARE:
            batch.append(calibration.synthetic(rng, CROP))
            continue
        picture = pool[int(rng.integers(len(pool)))]
        y = int(rng.integers(0, picture.shape[0] - CROP))
        x = int(rng.integers(0, picture.shape[1] - CROP))
        batch.append(picture[y : y + CROP, x : x + CROP])
    return np.stack(batch)


def _banding(student: nn.Module, teacher: nn.Module, rng: np.random.Generator) -> torch.Tensor:
    """Mean squared jump, in code values, of the error's profile along 8-bit ramps (inner part)."""
    total = torch.zeros(())
    for _ in range(RAMPS):
        axis = int(rng.integers(2))  # 1: the ramp runs along columns, 0: along rows
        frame = _pixels(calibration.ramp(rng, CROP // 2, CROP, axis)[None])
        with torch.no_grad():
            target = teacher(frame)
        error = (student(frame) - target)[0] * LEVELS
        h, w = error.shape[1:]
        inner = error[:, h // 8 : h - h // 8, w // 8 : w - w // 8]
        profile = inner.mean(dim=1 if axis == 1 else 2)
        total = total + (profile.diff(dim=1) ** 2).mean()
    return total / RAMPS


@dataclass(frozen=True)
class Score:
    """A checkpoint on the validation set: new gradient steps (the gate's rule), then PSNR lost on shapes."""

    new_steps: int
    shapes_drop_db: float

    def key(self) -> tuple[int, float]:
        """Fewer steps first, then less loss."""
        return self.new_steps, self.shapes_drop_db


def _answer(network: nn.Module, frame: np.ndarray) -> np.ndarray:
    """The network's uint8 answer to one uint8 frame, rounded as the graph rounds it."""
    with torch.no_grad():
        y = network(_pixels(frame[None]))[0]
    return torch.round(torch.clamp(y * LEVELS, 0, LEVELS)).permute(1, 2, 0).to(torch.uint8).numpy()


class Validation:
    """Held-out ramps and shapes, and the teacher's answers to them, for choosing a checkpoint."""

    def __init__(self, teacher: nn.Module, scale: int) -> None:
        self.ramps = calibration.validation_ramps(VALIDATION_RAMPS, VALIDATION_SEED)
        self.shapes = calibration.validation_graphics(VALIDATION_SHAPES, scale, VALIDATION_SEED)
        self.ramp_answers = [_answer(teacher, ramp) for ramp, _ in self.ramps]
        self.shape_psnr = float(np.mean([gate.psnr(_answer(teacher, c.low), c.high) for c in self.shapes]))

    def score(self, student: nn.Module) -> Score:
        """How the student's answers compare with the teacher's."""
        steps = sum(
            gate.banding(answer, _answer(student, ramp), axis)["new_steps"]
            for (ramp, axis), answer in zip(self.ramps, self.ramp_answers, strict=True)
        )
        psnr = float(np.mean([gate.psnr(_answer(student, c.low), c.high) for c in self.shapes]))
        return Score(int(steps), round(self.shape_psnr - psnr, 4))


def _batches(seed: int) -> Iterator[tuple[np.random.Generator, np.ndarray]]:
    rng = np.random.default_rng(seed)
    pool = calibration.training_pictures()
    while True:
        yield rng, _crops(rng, pool)


def fine_tune(
    network: nn.Module,
    scale: int,
    outlier: float = OUTLIER_PROB,
    *,
    steps: int = STEPS,
    seed: int = SEED,
) -> tuple[nn.Module, list[Rounding]]:
    """(the tuned float network, each convolution's rounding in order) for ``network`` (×``scale``)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread sums in one order: the same host rebuilds the same file
    try:
        return _fine_tune(network, scale, outlier, steps, seed)
    finally:
        torch.set_num_threads(threads)


def _fine_tune(
    network: nn.Module, scale: int, outlier: float, steps: int, seed: int
) -> tuple[nn.Module, list[Rounding]]:
    torch.manual_seed(seed)
    teacher = network.eval()
    student = copy.deepcopy(network).train()
    ranges = input_ranges(student, calibration.calibration_frames(), outlier)
    wrapped = []
    for index, (parent, name, conv) in enumerate(_convolutions(student)):
        fake = FakeQuantConv(conv, *ranges[conv], first=index == 0)
        setattr(parent, name, fake)
        wrapped.append((parent, name, fake))
    named = [(name, p) for name, p in student.named_parameters() if p.requires_grad]
    grids = [p for name, p in named if name.endswith((".scale", ".zero"))]
    rest = [p for name, p in named if not name.endswith((".scale", ".zero"))]
    optimiser = torch.optim.Adam(
        [{"params": rest, "lr": LEARNING_RATE}, {"params": grids, "lr": RANGE_LEARNING_RATE}]
    )
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, steps)
    batches = _batches(seed)
    validation = Validation(teacher, scale)
    best: tuple[Score, dict[str, torch.Tensor]] | None = None
    for step in range(1, steps + 1):
        rng, crops = next(batches)
        frames = _pixels(crops)
        with torch.no_grad():
            target = teacher(frames)
        loss = F.mse_loss(student(frames) * LEVELS, target * LEVELS)
        loss = loss + BANDING_WEIGHT * _banding(student, teacher, rng)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        if step == steps or (step >= steps // 2 and step % VALIDATE_EVERY == 0):
            # The gate's banding moves by whole steps between nearby checkpoints: keep the best seen.
            score = validation.score(student)
            LOG.info("fine-tuning step %d: %s", step, score)
            if best is None or score.key() < best[0].key():
                best = (score, copy.deepcopy(student.state_dict()))
    assert best is not None
    student.load_state_dict(best[1])
    LOG.info("fine-tuning kept %s", best[0])
    learned = [fake.rounding() for _, _, fake in wrapped]
    for parent, name, fake in wrapped:  # back to plain convolutions with the tuned weights
        setattr(parent, name, fake.conv)
    return student.eval(), learned
