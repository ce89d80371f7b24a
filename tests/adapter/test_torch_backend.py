"""The PyTorch backend on the CPU: 1-LSB parity with the f32 ONNX model for every model; kit weights."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from adapter.inference.torch_backend import TorchUpscaler, half_state, load_network
from adapter.inference.upscalers import TiledUpscaler, make_upscaler
from adapter.inference.watchdog import Watchdog
from contract.messages import MODELS
from tests.fixtures.frames import assert_same_frames
from tests.fixtures.media import make_clip
from tests.fixtures.models import MODELS_DIR
from tests.fixtures.services import require


@pytest.fixture(scope="module")
def frames(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    """Two real decoded 64x48 testsrc2 frames (shapes, gradients and text, like video; not noise)."""
    from adapter.video.decode import Decoder

    clip = make_clip(tmp_path_factory.mktemp("clip") / "src.mp4", size="64x48", audio_tracks=0)
    decoder = Decoder(clip)
    try:
        decoded = [rgb for rgb, _ in decoder.frames()]
    finally:
        decoder.close()
    return np.stack([decoded[0], decoded[len(decoded) // 2]])


#: The PyTorch backend builds the Real-ESRGAN architectures; Real-CUGAN runs through ONNX and Triton, its
#: parity with the official runtime is tests/model_convertation's (test_cugan*).
ESRGAN_MODELS = [model for model in MODELS if not model.startswith("realcugan-")]


@pytest.mark.parametrize("model", ESRGAN_MODELS)
def test_torch_on_cpu_is_within_one_lsb_of_the_f32_onnx_model(model: str, frames: np.ndarray) -> None:
    path = MODELS_DIR / f"{model}.onnx"
    require(path.is_file(), f"{path} missing: run python -m model_convertation build --target cpu")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    onnx = session.run(["output"], {"input": frames})[0]
    upscaler = TorchUpscaler(model, device="cpu")
    got = upscaler.infer(frames)
    upscaler.close()
    scale = MODELS[model]
    assert got.shape == onnx.shape == (2, 48 * scale, 64 * scale, 3)
    assert int(np.abs(got.astype(int) - onnx.astype(int)).max()) <= 1


def test_kit_weights_are_stored_half_and_give_the_same_frames(tmp_path: Path, frames: np.ndarray) -> None:
    model = "realesr-animevideov3-x4"
    state = half_state(load_network(model))
    # ncnn stores convolution weights as fp16: those travel as fp16 without loss, the rest as f32.
    assert state["network.body.0.weight"].dtype == torch.float16
    torch.save(state, tmp_path / f"{model}.pth")
    from_kit = TorchUpscaler(model, device="cpu", weights_dir=tmp_path)
    from_ncnn = TorchUpscaler(model, device="cpu")
    assert np.array_equal(from_kit.infer(frames), from_ncnn.infer(frames))


def test_batches_in_flight_on_threads_match_one_at_a_time(frames: np.ndarray) -> None:
    upscaler = TorchUpscaler("realesr-animevideov3-x2", device="cpu", in_flight=2, channels_last=True)
    alone = [upscaler.infer(frames[i : i + 1]) for i in (0, 1)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        together = list(pool.map(upscaler.infer, [frames[0:1], frames[1:2]] * 2))
    for got, want in zip(together, alone * 2, strict=True):
        assert_same_frames(got, want)


def test_make_upscaler_chooses_torch_when_asked_and_onnx_without_cuda() -> None:
    chosen = make_upscaler("realesr-animevideov3-x4", None, MODELS_DIR, backend="torch", device="cpu")
    assert isinstance(chosen, TiledUpscaler) and isinstance(chosen.inner, Watchdog)
    assert isinstance(chosen.inner.inner, TorchUpscaler), "in-process torch gets the call deadline too"
    assert chosen.device == "cpu"
    if not torch.cuda.is_available():
        require((MODELS_DIR / "realesr-animevideov3-x4.onnx").is_file(), "ONNX model missing")
        auto = make_upscaler("realesr-animevideov3-x4", None, MODELS_DIR)
        assert not isinstance(auto.inner.inner, TorchUpscaler)  # type: ignore[attr-defined]
        auto.close()
    chosen.close()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("dtype", ["fp16", "bf16"])
def test_cuda_is_close_to_the_cpu(dtype: str, frames: np.ndarray) -> None:
    cpu = TorchUpscaler("realesr-animevideov3-x4", device="cpu").infer(frames)
    cuda = TorchUpscaler("realesr-animevideov3-x4", device="cuda", dtype=dtype)
    with ThreadPoolExecutor(max_workers=cuda.in_flight) as pool:
        outs = list(pool.map(cuda.infer, [frames] * 6))
    for out in outs:
        assert np.abs(out.astype(int) - cpu.astype(int)).mean() < 1.5


class _FakeStream:
    """Stands in for a CUDA stream on the CPU: work is already done when it is 'synchronized'."""

    def synchronize(self) -> None:
        """Nothing to wait for."""


class _FakeEvent:
    """Stands in for a CUDA event."""

    def __init__(self, **_: bool) -> None:
        self.recorded = False

    def record(self, _stream: object = None) -> None:
        """Mark as recorded."""
        self.recorded = True


def test_the_cuda_lane_path_gives_the_cpu_frames(frames: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    # The CUDA branch's own logic (lane buffers that grow, pinned views, copies out, event spans) on the CPU:
    # only the stream, event and pinning calls are stood in for.
    import contextlib

    from adapter.inference import torch_backend

    upscaler = TorchUpscaler("realesr-animevideov3-x4", device="cpu")
    want = upscaler.infer(frames)
    monkeypatch.setattr(torch.cuda, "stream", lambda _stream: contextlib.nullcontext())
    monkeypatch.setattr(torch.cuda, "Event", _FakeEvent)
    lane = object.__new__(torch_backend._Lane)
    lane.stream = _FakeStream()  # type: ignore[assignment]
    lane.host_in = lane.host_out = torch.empty(1, dtype=torch.uint8)
    monkeypatch.setattr(torch.Tensor, "pin_memory", lambda self: self)
    upscaler._lanes.put(lane)
    upscaler.spans = []
    first = upscaler._infer_cuda(frames[:1])
    both = upscaler._infer_cuda(frames)  # a larger batch grows the lane's buffers
    # Batch 1 against batch 2 in float: within one level, not bit for bit (AVX2 and AVX-512 round apart).
    assert_same_frames(first, want[:1])
    assert_same_frames(both, want)
    assert lane.host_in.numel() == frames.size and upscaler._lanes.qsize() == 1  # the lane went back
    events = [event for span in upscaler.spans for event in span]
    assert len(events) == 4 and all(isinstance(e, _FakeEvent) and e.recorded for e in events)


def test_a_real_cugan_model_is_refused_in_words() -> None:
    from adapter.errors import ModelContractError

    with pytest.raises(ModelContractError) as refused:
        load_network("realcugan-se-x2")
    assert "realcugan-se-x2" in str(refused.value) and "torch" in str(refused.value)
