"""Makefile, .ci/run, requirements and the Prometheus scrape configs."""

from __future__ import annotations

import os
import re
import subprocess

import yaml

from tests.fixtures.devops import DEVOPS, ROOT


def test_makefile_has_the_targets() -> None:
    done = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=True)
    listed = set(re.findall(r"make (\S+)", done.stdout))
    assert {"up", "test", "test-fast", "lint", "bench", "models", "system"} <= listed


def test_make_test_runs_lint_and_the_whole_suite() -> None:
    done = subprocess.run(["make", "-n", "-W", "requirements.txt", "test"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    commands = done.stdout
    assert "torch==2.13.0" in commands and "-r requirements.txt" in commands
    assert commands.index("torch==2.13.0") < commands.index("-r requirements.txt")
    for expected in ("ruff check", "mypy", "pytest", "model_convertation build --target cpu"):
        assert expected in commands


def _defaults() -> dict[str, str]:
    """This environment without what a calling make passes down (MAKEFLAGS, PYTEST_WORKERS=…)."""
    passed_down = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PYTEST_WORKERS")
    return {k: v for k, v in os.environ.items() if k not in passed_down}


def test_make_test_keeps_every_duration_and_runs_on_three_workers() -> None:
    done = subprocess.run(["make", "-n", "-W", "requirements.txt", "test"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True, env=_defaults())
    pytest_line = next(line for line in done.stdout.splitlines() if "bin/pytest" in line)
    for expected in ("--durations=25", "--durations-file=var/test-durations.txt",
                     "--junitxml=var/test-report.xml", "-n 3 --dist loadgroup", '-m "not gpu"'):
        assert expected in pytest_line, expected


def test_make_test_fast_leaves_out_the_slow_and_gpu_tests() -> None:
    done = subprocess.run(["make", "-n", "test-fast"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=True, env=_defaults())
    pytest_line = next(line for line in done.stdout.splitlines() if "bin/pytest" in line)
    assert '-m "not slow and not gpu"' in pytest_line and "-n 3" in pytest_line


def test_ci_script_calls_make_test() -> None:
    script = ROOT / ".ci" / "run"
    assert script.stat().st_mode & 0o111
    subprocess.run(["bash", "-n", str(script)], check=True, timeout=30)
    assert script.read_text().rstrip().endswith("make test")


def test_root_requirements_include_every_deployable() -> None:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    included = {line.split(None, 1)[1] for line in lines if line.startswith("-r ")}
    deployables = ("adapter", "backend", "model_convertation")
    assert included == {f"{name}/requirements.txt" for name in deployables}
    for path in included:
        assert (ROOT / path).is_file()
    for line in (ROOT / "requirements-dev.txt").read_text().splitlines():
        if line and not line.startswith(("#", "-r")):
            assert re.fullmatch(r"[\w.\[\],-]+==[\w.]+", line), f"unpinned: {line}"


def test_prometheus_scrapes_every_metrics_port() -> None:
    config = yaml.safe_load((DEVOPS / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["backend"]["static_configs"][0]["targets"] == ["backend:8008"]
    assert jobs["backend"]["metrics_path"] == "/metrics"
    assert jobs["adapter"]["dns_sd_configs"][0]["port"] == 9108
    assert jobs["triton"]["static_configs"][0]["targets"] == ["triton:8002"]
    k8s = yaml.safe_load((DEVOPS / "prometheus" / "kubernetes.yml").read_text())
    assert k8s["scrape_configs"][0]["kubernetes_sd_configs"][0]["role"] == "pod"


def test_prometheus_loads_a_dead_letter_alert_on_the_backends_gauge() -> None:
    rules = yaml.safe_load((DEVOPS / "prometheus" / "rules.yml").read_text())
    alerts = {r["alert"]: r for group in rules["groups"] for r in group["rules"] if "alert" in r}
    assert "vsr_tasks_dead_depth" in alerts["VsrDeadLetteredTasks"]["expr"]
    for name in ("prometheus.yml", "kubernetes.yml"):
        config = yaml.safe_load((DEVOPS / "prometheus" / name).read_text())
        assert config["rule_files"] == ["rules.yml"], name
    compose = yaml.safe_load((DEVOPS / "compose.yml").read_text())
    mounts = compose["services"]["prometheus"]["volumes"]
    assert "./prometheus/rules.yml:/etc/prometheus/rules.yml:ro" in mounts
