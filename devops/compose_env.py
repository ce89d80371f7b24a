"""Write the compose deployment's .env from .env.example, with fresh random secrets (never overwrites)."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

#: Knobs that must be secrets of this deployment, and how each is made.
SECRETS = {
    "RABBITMQ_PASSWORD": lambda: secrets.token_hex(16),
    "POSTGRES_PASSWORD": lambda: secrets.token_hex(16),
    "SECRET_KEY": lambda: secrets.token_urlsafe(48),
    "OPS_TOKEN": lambda: secrets.token_hex(32),
}


def render(example: str) -> str:
    """.env.example's text with every secret knob given a fresh value."""
    lines = []
    for line in example.splitlines():
        name = line.split("=", 1)[0]
        lines.append(f"{name}={SECRETS[name]()}" if name in SECRETS and "=" in line else line)
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    """python -m devops.compose_env TARGET [EXAMPLE]: write TARGET unless it exists."""
    target = Path(argv[0])
    example = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1] / ".env.example"
    if target.exists():
        return 0
    target.write_text(render(example.read_text()))
    target.chmod(0o600)
    print(f"wrote {target} with fresh secrets (edit it to change the deployment)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
