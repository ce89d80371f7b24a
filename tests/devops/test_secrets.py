"""Identity secrets come from the environment (compose) or a Secret (k8s), never from a shipped default."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from tests.fixtures.devops import DEVOPS, ROOT, by_kind, compose_binary
from tests.fixtures.services import require


def test_compose_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    binary = compose_binary()
    require(binary is not None, "docker-compose")
    assert binary is not None
    env = tmp_path / "no-secret.env"
    # Every other required secret is set.
    env.write_text("RABBITMQ_PASSWORD=x\nPOSTGRES_PASSWORD=x\nOPS_TOKEN=x\n")
    command = [binary, "--env-file", str(env), "-f", str(DEVOPS / "compose.yml"), "config", "--quiet"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    assert done.returncode != 0 and "SECRET_KEY" in done.stderr


def test_k8s_takes_the_secrets_from_a_secret_it_does_not_ship(k8s_docs: list[dict[str, Any]]) -> None:
    backend = by_kind(k8s_docs, "Deployment")["vsr-backend"]
    env = {item["name"]: item for item in backend["spec"]["template"]["spec"]["containers"][0]["env"]}
    for name in ("SECRET_KEY", "JWT_KEY", "OPS_TOKEN"):
        assert env[name]["valueFrom"]["secretKeyRef"]["name"] == "vsr-auth", name
    assert not env["OPS_TOKEN"]["valueFrom"]["secretKeyRef"].get("optional"), "the ops endpoints never open"
    assert "vsr-auth" not in by_kind(k8s_docs, "Secret"), "the secret is made by the operator, not shipped"
    config = by_kind(k8s_docs, "ConfigMap")["vsr-config"]["data"]
    assert not {"SECRET_KEY", "JWT_KEY"} & set(config)


def test_no_image_bakes_a_secret() -> None:
    for dockerfile in (DEVOPS / "docker").glob("*Dockerfile"):
        text = dockerfile.read_text()
        assert "SECRET_KEY" not in text and "JWT_KEY" not in text, dockerfile.name
    example = dict(line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines()
                   if line and not line.startswith("#"))
    assert example["SECRET_KEY"].startswith("change-me"), "the example says plainly that it must be changed"
    assert example["OPS_TOKEN"].startswith("change-me"), "(the backend refuses to start on either)"


def test_compose_requires_an_ops_token_and_prometheus_carries_it(tmp_path: Path) -> None:
    compose = (DEVOPS / "compose.yml").read_text()
    assert "OPS_TOKEN: ${OPS_TOKEN:?" in compose and "secrets: [ops_token]" in compose
    for name in ("prometheus.yml", "kubernetes.yml"):
        config = (DEVOPS / "prometheus" / name).read_text()
        active = [line.strip() for line in config.splitlines() if not line.strip().startswith("#")]
        assert "authorization:" in active, name
        assert any(line.startswith("credentials_file:") for line in active), name
    binary = compose_binary()
    require(binary is not None, "docker-compose")
    assert binary is not None
    env = tmp_path / "no-token.env"
    env.write_text("RABBITMQ_PASSWORD=x\nPOSTGRES_PASSWORD=x\nSECRET_KEY=0123456789abcdef0123456789abcdef\n")
    command = [binary, "--env-file", str(env), "-f", str(DEVOPS / "compose.yml"), "config", "--quiet"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    assert done.returncode != 0 and "OPS_TOKEN" in done.stderr
