"""Whether the model server can take work: the worker consumes tasks only while ``ready()`` is true."""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Protocol

log = logging.getLogger(__name__)

#: Seconds one readiness look may take: a dead server must not hold the connection thread long.
READY_TIMEOUT_S = 2.0


class ModelHealth(Protocol):
    """Readiness of the model the worker needs (Triton, or always ready in-process)."""

    def ready(self) -> bool:
        """True when the model server answers and the model is loaded."""
        ...


class AlwaysReady:
    """In-process inference: the model lives in the worker, so it is ready whenever the worker is."""

    def ready(self) -> bool:
        """Always true."""
        return True


class TritonHealth:
    """Triton's server and model readiness over gRPC, each look bounded by ``timeout_s``."""

    def __init__(self, url: str, model: str, timeout_s: float = READY_TIMEOUT_S) -> None:
        self._url = url
        self._model = model
        self._timeout_s = timeout_s
        self._client: Any = None

    def ready(self) -> bool:
        """Server ready and model ready; any error (refused, timed out) means not ready."""
        try:
            if self._client is None:
                import tritonclient.grpc as grpcclient

                self._client = grpcclient.InferenceServerClient(self._url)
            client = self._client
            return bool(
                client.is_server_ready(client_timeout=self._timeout_s)
                and client.is_model_ready(self._model, client_timeout=self._timeout_s)
            )
        except Exception as exc:  # unreachable, refused, deadline exceeded: all mean "not now"
            log.debug("model server not ready: %s", exc)
            self._drop()
            return False

    def _drop(self) -> None:
        """Forget the client: a fresh channel connects at once, not after gRPC's reconnect backoff."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
