"""Adapter error tree: every way a task can end other than success, and what the worker does about it.

ReasonError (contract.catalogue)         carries a catalogue ``Reason``; ``str(error)`` is its English text
├── JobError                             the job failed; the reason is shown to the user
│   ├── PermanentJobError                the input or request is bad; retrying cannot help
│   │   ├── InvalidInputError              not a video, corrupt, unsupported codec/container, refused protocol
│   │   └── LimitExceededError             resolution, duration, frame count or output size beyond the limits
│   └── TransientJobError                the environment failed; retried later, up to TASK_ATTEMPTS attempts
│       ├── InferenceUnavailableError      model missing, a call failed or timed out
│       │   └── ModelUnavailableError        Triton unreachable or the model not ready: infrastructure, not
│       │       │                            an attempt; retried until INFRA_BUDGET_S of wall-clock time
│       │       └── ModelOverloadedError       a call timed out (or Triton dropped it from its queue) while
│       │                                    the model answered its readiness check: overload, not a fault;
│       │                                    waits and retries like an outage, without pausing the worker
│       ├── InferenceStuckError            an inference call passed its deadline and was abandoned
│       ├── ModelContractError             the served model breaks the model contract (see below)
│       ├── StorageError                   shared storage not writable/readable
│       │   └── StorageFull                  no space (ENOSPC) or quota (EDQUOT) left for outputs/temporaries
│       └── ProcessCrashedError            the guarded child running the job died (decoder crash, OOM kill)
└── BadMessageError                      the task message is unusable: dead-lettered, never run
JobCancelled (not an error)              the user cancelled: the task is acked and nothing is published

ModelContractError is transient *for the job*: another worker (or this one after a redeploy) may serve
the right model, so a contract break found mid-job requeues the task. At start-up the same error still
stops the worker (``adapter.worker.main`` catches it before consuming), so a misdeployed model never takes
work.
Lower-layer exceptions are wrapped with ``raise ... from exc`` so the cause stays in the logs.
"""

from __future__ import annotations

from contract.catalogue import Reason, ReasonError


class JobError(ReasonError):
    """Base of every job failure; carries the user-facing ``Reason``."""

    def __reduce__(self) -> tuple[type[JobError], tuple[Reason]]:
        # Rebuilt from the Reason, not the English text, when it comes back from a guarded child.
        return type(self), (self.reason,)


class PermanentJobError(JobError):
    """Retrying cannot help: the job fails and the task is dead-lettered at once."""


class InvalidInputError(PermanentJobError):
    """The input is not a video we can read."""


class LimitExceededError(PermanentJobError):
    """The input (or the output it asks for) is beyond a configured limit."""


class TransientJobError(JobError):
    """May succeed on another attempt (another worker, a later moment)."""


class InferenceUnavailableError(TransientJobError):
    """Inference server unreachable, model missing or not ready, or a call timed out."""


class ModelUnavailableError(InferenceUnavailableError):
    """The model server is unreachable or the model is not ready: not the job's fault, not an attempt."""


class ModelOverloadedError(ModelUnavailableError):
    """The model server is ready but behind (a call passed its deadline): not the job's fault, no attempt."""


class InferenceStuckError(TransientJobError):
    """An inference call (or the wait for its answer) passed its deadline; the call is abandoned."""


class ModelContractError(TransientJobError):
    """The served model does not match the model contract (config.pbtxt); stops the worker at start-up."""


class StorageError(TransientJobError):
    """Shared storage failed."""


class StorageFull(StorageError):
    """No space (or quota) left for this run's outputs; retried later, when space may have been freed."""


class ProcessCrashedError(TransientJobError):
    """The process running the job died (e.g. the decoder crashed on a poison input)."""


class BadMessageError(ReasonError):
    """The task body is not a valid JobMessage or names storage outside its job; never retried."""

    def __init__(self, why: Reason, job_id: str | None = None) -> None:
        super().__init__(why)
        self.job_id = job_id

    def __reduce__(self) -> tuple[type[BadMessageError], tuple[Reason, str | None]]:
        return type(self), (self.reason, self.job_id)


class JobCancelled(Exception):
    """The user cancelled the job while it ran (or the worker is shutting down); not a failure."""
