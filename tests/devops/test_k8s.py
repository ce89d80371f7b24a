"""Kubernetes manifests: names, ports, probes, env names and the KEDA queue all line up."""

from __future__ import annotations

import re
from typing import Any

import yaml

from backend.metrics import Metrics
from contract.topology import TASKS_QUEUE
from tests.fixtures.devops import DEVOPS, by_kind

# Env entries that only assemble AMQP_URL from the operator's secret.
HELPER_ENV = {"RABBITMQ_USERNAME", "RABBITMQ_PASSWORD"}


def pod_spec(deployment: dict[str, Any]) -> dict[str, Any]:
    return dict(deployment["spec"]["template"]["spec"])


def test_every_kind_is_there(k8s_docs: list[dict[str, Any]]) -> None:
    kinds = {(doc["kind"], doc["metadata"]["name"]) for doc in k8s_docs}
    assert {
        ("Deployment", "vsr-adapter"),
        ("Deployment", "vsr-backend"),
        ("Deployment", "vsr-triton"),
        ("Service", "vsr-backend"),
        ("Service", "vsr-triton"),
        ("RabbitmqCluster", "vsr-rabbitmq"),
        ("ScaledObject", "vsr-adapter"),
        ("TriggerAuthentication", "vsr-rabbitmq-keda"),
        ("PersistentVolumeClaim", "vsr-storage"),
        ("ConfigMap", "vsr-config"),
    } <= kinds


def test_config_keys_are_settings_fields(
    k8s_docs: list[dict[str, Any]], adapter_fields: set[str], backend_fields: set[str]
) -> None:
    config = by_kind(k8s_docs, "ConfigMap")["vsr-config"]["data"]
    assert set(config) <= adapter_fields | backend_fields
    deployments = by_kind(k8s_docs, "Deployment")
    for name, fields in (("vsr-adapter", adapter_fields), ("vsr-backend", backend_fields)):
        container = pod_spec(deployments[name])["containers"][0]
        assert {"configMapRef": {"name": "vsr-config"}} in container["envFrom"]
        assert {item["name"] for item in container["env"]} - HELPER_ENV <= fields


def test_services_select_their_pods_and_ports(k8s_docs: list[dict[str, Any]]) -> None:
    deployments = by_kind(k8s_docs, "Deployment")
    for service in by_kind(k8s_docs, "Service").values():
        target = deployments[service["metadata"]["name"]]
        labels = target["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= labels.items()
        assert target["spec"]["selector"]["matchLabels"].items() <= labels.items()
        port_names = {port["name"] for c in pod_spec(target)["containers"] for port in c["ports"]}
        assert {port["targetPort"] for port in service["spec"]["ports"]} <= port_names


def test_triton_probes_ports_and_gpu(k8s_docs: list[dict[str, Any]]) -> None:
    spec = pod_spec(by_kind(k8s_docs, "Deployment")["vsr-triton"])
    triton = spec["containers"][0]
    assert triton["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    ports = {p["name"]: p["containerPort"] for p in triton["ports"]}
    assert ports == {"http": 8000, "grpc": 8001, "metrics": 8002}
    assert triton["resources"]["limits"]["nvidia.com/gpu"] == 1
    builder = spec["initContainers"][0]
    assert builder["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert {m["name"] for m in builder["volumeMounts"]} >= {"model-repo"}
    service = by_kind(k8s_docs, "Service")["vsr-triton"]
    service_ports = {p["name"]: p["port"] for p in service["spec"]["ports"]}
    assert service_ports["metrics"] == 8002
    config = by_kind(k8s_docs, "ConfigMap")["vsr-config"]["data"]
    assert config["TRITON_URL"] == f"vsr-triton:{service_ports['grpc']}"


def test_images_match_the_ngc_release() -> None:
    kustomization = yaml.safe_load((DEVOPS / "k8s" / "kustomization.yaml").read_text())
    images = {image["name"]: image["newTag"] for image in kustomization["images"]}
    assert images["nvcr.io/nvidia/tritonserver"] == f"{images['vsr/engine-builder']}-py3"


def test_keda_scales_adapters_on_the_tasks_queue(k8s_docs: list[dict[str, Any]]) -> None:
    scaled = by_kind(k8s_docs, "ScaledObject")["vsr-adapter"]["spec"]
    assert scaled["scaleTargetRef"]["name"] in by_kind(k8s_docs, "Deployment")
    trigger = scaled["triggers"][0]
    assert trigger["type"] == "rabbitmq"
    assert trigger["metadata"]["queueName"] == TASKS_QUEUE
    assert trigger["metadata"]["protocol"] == "http"  # counts unacked messages: busy workers stay
    assert trigger["authenticationRef"]["name"] in by_kind(k8s_docs, "TriggerAuthentication")
    assert scaled["minReplicaCount"] >= 1


def test_broker_names_line_up(k8s_docs: list[dict[str, Any]]) -> None:
    cluster = next(iter(by_kind(k8s_docs, "RabbitmqCluster")))
    secret = f"{cluster}-default-user"
    auth = by_kind(k8s_docs, "TriggerAuthentication")["vsr-rabbitmq-keda"]["spec"]["secretTargetRef"]
    assert {ref["name"] for ref in auth} == {secret}
    for name in ("vsr-adapter", "vsr-backend"):
        container = pod_spec(by_kind(k8s_docs, "Deployment")[name])["containers"][0]
        env = {item["name"]: item for item in container["env"]}
        assert re.fullmatch(
            rf"amqp://\$\(RABBITMQ_USERNAME\):\$\(RABBITMQ_PASSWORD\)@{cluster}:5672/%2F",
            env["AMQP_URL"]["value"],
        )
        assert env["RABBITMQ_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == secret


def test_shared_storage_is_read_write_many(k8s_docs: list[dict[str, Any]]) -> None:
    claims = by_kind(k8s_docs, "PersistentVolumeClaim")
    assert claims["vsr-storage"]["spec"]["accessModes"] == ["ReadWriteMany"]
    for name in ("vsr-adapter", "vsr-backend"):
        spec = pod_spec(by_kind(k8s_docs, "Deployment")[name])
        volumes = {v["name"]: v for v in spec["volumes"]}
        mount = next(m for m in spec["containers"][0]["volumeMounts"] if m["mountPath"] == "/data/storage")
        assert volumes[mount["name"]]["persistentVolumeClaim"]["claimName"] == "vsr-storage"
        assert spec["securityContext"]["runAsNonRoot"] is True


def test_adapter_grace_outlasts_its_shutdown_grace(k8s_docs: list[dict[str, Any]]) -> None:
    config = by_kind(k8s_docs, "ConfigMap")["vsr-config"]["data"]
    spec = pod_spec(by_kind(k8s_docs, "Deployment")["vsr-adapter"])
    assert spec["terminationGracePeriodSeconds"] > float(config["SHUTDOWN_GRACE_S"])


def test_triton_and_adapter_probes(k8s_docs: list[dict[str, Any]]) -> None:
    deployments = by_kind(k8s_docs, "Deployment")
    triton = pod_spec(deployments["vsr-triton"])["containers"][0]
    assert triton["livenessProbe"]["httpGet"] == {"path": "/v2/health/live", "port": "http"}
    assert triton["startupProbe"]["httpGet"] == {"path": "/v2/health/ready", "port": "http"}
    adapter = pod_spec(deployments["vsr-adapter"])["containers"][0]
    assert adapter["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    assert adapter["livenessProbe"]["httpGet"] == {"path": "/metrics", "port": "metrics"}
    config = by_kind(k8s_docs, "ConfigMap")["vsr-config"]["data"]
    ports = {p["name"]: p["containerPort"] for p in adapter["ports"]}
    assert str(ports["metrics"]) == config.get("ADAPTER_METRICS_PORT", "9108")


def test_keda_also_scales_on_the_fair_queues_backlog(k8s_docs: list[dict[str, Any]]) -> None:
    """The tasks waiting in the database (FAIR_QUEUE) reach KEDA through the backend's gauge."""
    scaled = by_kind(k8s_docs, "ScaledObject")["vsr-adapter"]["spec"]
    triggers = {trigger["type"]: trigger for trigger in scaled["triggers"]}
    assert set(triggers) == {"rabbitmq", "prometheus"}, "busy workers (rabbitmq) and the backlog (prometheus)"
    found = re.fullmatch(r'max\((\w+)\{service="([\w-]+)"\}\)', triggers["prometheus"]["metadata"]["query"])
    assert found is not None, "max over backend replicas: each reports the same database-wide figure"
    metric, service = found.groups()
    exported = {m.name for m in Metrics(lambda: {}).registry.collect()}
    assert metric == "vsr_tasks_waiting" and metric in exported
    backend = by_kind(k8s_docs, "Deployment")["vsr-backend"]["spec"]["template"]["metadata"]
    # devops/prometheus/kubernetes.yml labels each series with the pod's app.kubernetes.io/name as `service`.
    assert backend["labels"]["app.kubernetes.io/name"] == service
    assert backend["annotations"]["prometheus.io/scrape"] == "true"
    assert backend["annotations"]["prometheus.io/path"] == "/metrics"
    assert float(triggers["prometheus"]["metadata"]["threshold"]) == 1, "one adapter per waiting task"
