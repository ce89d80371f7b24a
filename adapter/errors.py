"""Adapter error tree.

JobError
├── PermanentJobError   the input or request is bad; retrying cannot help -> job FAILED, task dead-lettered
│   ├── InvalidInputError   not a video, corrupt, unsupported codec/container, refused protocol
│   └── LimitExceededError  resolution, duration or frame count beyond the configured limits
└── TransientJobError   the environment failed; the task is requeued up to the delivery limit
    ├── InferenceUnavailableError  Triton down, model not ready, call timed out
    └── StorageError               shared storage not writable/readable
JobCancelled is not an error: the user cancelled; the task is acked and nothing is published.
Lower-layer exceptions are wrapped with ``raise ... from exc`` so the cause stays in logs,
while ``str(error)`` is a one-line human reason shown to the user.
"""


class JobError(Exception):
    """Base of every job failure."""


class PermanentJobError(JobError):
    """Retrying cannot help."""


class InvalidInputError(PermanentJobError):
    """The input is not a video we can read."""


class LimitExceededError(PermanentJobError):
    """The input is beyond a configured limit."""


class TransientJobError(JobError):
    """May succeed on another attempt."""


class InferenceUnavailableError(TransientJobError):
    """Inference server unreachable, not ready, or timed out."""


class StorageError(TransientJobError):
    """Shared storage failed."""


class ModelContractError(Exception):
    """The served model does not match config.pbtxt; the worker refuses to start consuming."""


class JobCancelled(Exception):
    """The user cancelled the job while it ran."""
