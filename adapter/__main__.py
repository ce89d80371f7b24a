"""Entry point: ``python -m adapter upscale ...``, ``python -m adapter describe ...`` or ``... worker``."""

from __future__ import annotations

import sys

USAGE = "usage: python -m adapter {upscale,describe,worker} ..."


def main(argv: list[str] | None = None) -> int:
    """Dispatch; each command imports only what it needs (``upscale`` needs no broker code)."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in ("upscale", "describe", "worker"):
        print(USAGE, file=sys.stderr)
        return 2
    if args[0] == "upscale":
        from adapter import cli

        return cli.main(args[1:])
    if args[0] == "describe":
        from adapter.description import cli as description_cli

        return description_cli.main(args[1:])
    from adapter.worker import main as worker

    return worker.main(args[1:])


if __name__ == "__main__":
    sys.exit(main())
