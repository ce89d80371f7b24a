"""Limits both services apply and their defaults: each service's settings start from these values.

Input limits are orientation-free boxes (a portrait 2160x3840 fits 3840x2160); so is the output box.
"""

from __future__ import annotations

from typing import Final

#: Largest input frame (display size, either orientation) and longest input, by default.
MAX_WIDTH: Final = 3840
MAX_HEIGHT: Final = 2160
MAX_DURATION_S: Final = 7200.0
#: Largest output frame (8K UHD, either orientation); the encoders' limits are just above.
MAX_OUTPUT_WIDTH: Final = 7680
MAX_OUTPUT_HEIGHT: Final = 4320
#: Smallest output height a user may ask for.
MIN_OUTPUT_HEIGHT: Final = 16
#: Seconds ffprobe may take to describe an upload (backend) or a task's input (adapter).
PROBE_TIMEOUT_S: Final = 30.0
#: Seconds one inference call may take before the job counts as stuck (Triton and in-process alike).
INFERENCE_TIMEOUT_S: Final = 60.0
#: Seconds the backend may spend demuxing an upload to count what it really holds (contract.stream).
COUNT_TIMEOUT_S: Final = 120.0
#: Attempts of one task before a transient failure fails its job (crash redeliveries count too).
TASK_ATTEMPTS: Final = 5
#: Bounds of the retry backoff (full jitter, contract.amqp.Backoff); the delays are the retry queues'.
RETRY_MIN_S: Final = 2.0
RETRY_MAX_S: Final = 256.0
#: Wall-clock seconds a task may wait for the model server (Triton) before its job fails.
INFRA_BUDGET_S: Final = 1800.0
