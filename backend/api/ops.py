"""Protection of the operator endpoints (/metrics and the API docs) with a bearer token (OPS_TOKEN, or one
generated under RUN_DIR: never open), and the model server's readiness for /readyz (MODEL_READY_URL)."""

from __future__ import annotations

import hmac
import json
import urllib.error
import urllib.request

from starlette.types import ASGIApp, Receive, Scope, Send

from contract.catalogue import reason

#: Paths an OPS_TOKEN guards; /healthz and /readyz stay open for probes.
GUARDED_PATHS = frozenset({"/metrics", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})


class OpsTokenGuard:
    """ASGI middleware: the ops paths answer 401 unless ``Authorization: Bearer <token>`` matches."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") not in GUARDED_PATHS or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        why = reason("auth.ops_token")
        body = json.dumps({"detail": why.text("en"), "code": why.code, "params": dict(why.params)}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b"Bearer"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _allowed(self, scope: Scope) -> bool:
        given = dict(scope["headers"]).get(b"authorization", b"")
        # Constant-time: the token must not leak through response timing.
        return hmac.compare_digest(given, self._expected)


#: An opener that ignores proxy variables: the model server is on the operator's own network.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
#: Seconds the model server's readiness URL may take to answer before /readyz calls it unavailable.
MODEL_READY_TIMEOUT_S = 1.0


def model_server(url: str, timeout_s: float = MODEL_READY_TIMEOUT_S) -> str:
    """``ok`` when ``url`` (e.g. Triton's /v2/health/ready) answers 200 in time, else why not."""
    try:
        with _DIRECT.open(url, timeout=timeout_s) as reply:
            status = int(reply.status)
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:  # refused, timed out, unresolvable, malformed
        return f"unavailable: {type(exc).__name__}"
    return "ok" if status == 200 else f"not ready: HTTP {status}"
