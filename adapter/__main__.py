"""Entry point: ``python -m adapter upscale ...`` or ``python -m adapter worker``."""

from __future__ import annotations

import sys

USAGE = "usage: python -m adapter {upscale,worker} ..."


def main(argv: list[str] | None = None) -> int:
    """Dispatch; the worker is imported only when asked for, so ``upscale`` needs no broker code."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in ("upscale", "worker"):
        print(USAGE, file=sys.stderr)
        return 2
    if args[0] == "upscale":
        from adapter import cli

        return cli.main(args[1:])
    from adapter import main as worker

    return worker.main(args[1:])


if __name__ == "__main__":
    sys.exit(main())
