"""The client's address, decided in exactly one place: this middleware, from ``TRUSTED_PROXIES``.

uvicorn's own proxy handling is off (``backend.api.serving``), so the peer reaches the app unchanged; here,
when the peer is a trusted proxy, ``X-Forwarded-For`` is read from the right, skipping trusted proxies
(entries left of the first untrusted hop were written by the client and prove nothing). The result
replaces ``scope["client"]`` in place: the quotas, the logs and uvicorn's access log all see this one
address, and a header from anyone else changes nothing.
"""

from __future__ import annotations

import ipaddress

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(setting: str) -> list[Network]:
    """``TRUSTED_PROXIES``: space- or comma-separated CIDRs (a bare address is a /32 or /128)."""
    return [ipaddress.ip_network(part, strict=False) for part in setting.replace(",", " ").split()]


def _trusted(address: str, trusted: list[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in trusted)


def client_address(peer: str, forwarded: list[str], trusted: list[Network]) -> str:
    """The peer, or, when the peer is a trusted proxy, the rightmost forwarded hop that is not one."""
    if not trusted or not _trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in ",".join(forwarded).split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer


class ClientAddress:
    """ASGI middleware: ``scope["client"]`` becomes the client's address as ``TRUSTED_PROXIES`` allows."""

    def __init__(self, app: ASGIApp, trusted_proxies: str) -> None:
        self.app = app
        self.trusted = networks(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.trusted and scope.get("client"):
            host, port = scope["client"]
            forwarded = Headers(scope=scope).getlist("x-forwarded-for")
            address = client_address(host, forwarded, self.trusted)
            if address != host:
                # In place, as uvicorn's own middleware would: its access log reads this same dict.
                scope["client"] = (address, port)
        await self.app(scope, receive, send)
