"""What every upscaler is (``Upscaler``) and the check every model output passes (``check_output``)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from adapter.errors import ModelContractError
from contract.catalogue import reason


@runtime_checkable
class Upscaler(Protocol):
    """A super-resolution model: ``scale`` × size, at most ``max_batch`` frames a call, on ``device``."""

    scale: int
    max_batch: int
    in_flight: int
    #: "cpu" when the model competes with the encoder for the CPU, "gpu" when it has its own silicon.
    device: str

    def infer(self, batch: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """Upscale uint8 ``[N, H, W, 3]`` to ``[N, scale·H, scale·W, 3]``; thread-safe."""
        ...

    def close(self) -> None:
        """Release the model or connection."""
        ...


def check_output(
    batch: npt.NDArray[np.uint8], out: npt.NDArray[np.generic], scale: int
) -> npt.NDArray[np.uint8]:
    """Refuse an output that breaks the model contract (wrong size or type)."""
    n, h, w, _ = batch.shape
    if out.dtype != np.uint8 or out.shape != (n, h * scale, w * scale, 3):
        got, expected = f"{out.dtype}{list(out.shape)}", f"uint8{[n, h * scale, w * scale, 3]}"
        raise ModelContractError(reason("job.model_wrong_output", got=got, expected=expected))
    return out.astype(np.uint8, copy=False)


class UpscalerFactory(Protocol):
    """Builds (and so checks the contract of) the upscaler of a model."""

    def __call__(self, model: str, /) -> Upscaler: ...
