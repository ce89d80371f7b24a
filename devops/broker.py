"""RabbitMQ helpers for local runs: make sure the broker answers, private vhosts, consumer counts."""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
import urllib.parse
import uuid
from types import TracebackType

import pika
import pika.exceptions

from contract.topology import TASKS_QUEUE

log = logging.getLogger(__name__)
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def broker_answers(amqp_url: str, timeout_s: float = 3.0) -> bool:
    """True when an AMQP connection to `amqp_url` can be opened."""
    params = pika.URLParameters(amqp_url)
    params.socket_timeout = timeout_s
    params.connection_attempts = 1
    try:
        connection = pika.BlockingConnection(params)
    except pika.exceptions.AMQPError:
        return False
    connection.close()
    return True


def ensure_broker(amqp_url: str, timeout_s: float = 90.0) -> bool:
    """Make RabbitMQ answer at `amqp_url`, starting a local `rabbitmq-server -detached` if needed.

    Returns True when this call started the broker.
    """
    if broker_answers(amqp_url):
        return False
    host = urllib.parse.urlsplit(amqp_url).hostname or ""
    server = shutil.which("rabbitmq-server")
    if host not in LOCAL_HOSTS or server is None:
        raise RuntimeError(
            f"RabbitMQ does not answer at {urllib.parse.urlsplit(amqp_url).netloc.split('@')[-1]}; start it "
            "(`rabbitmq-server -detached`, or `docker compose -f devops/compose.yml up -d rabbitmq`)"
        )
    log.info("starting rabbitmq-server -detached")
    subprocess.run([server, "-detached"], check=True, timeout=60, capture_output=True)
    deadline = time.monotonic() + timeout_s
    while not broker_answers(amqp_url):
        if time.monotonic() > deadline:
            raise RuntimeError(f"rabbitmq-server started but does not answer after {timeout_s:.0f} s")
        time.sleep(1.0)
    return True


def with_vhost(amqp_url: str, vhost: str) -> str:
    """The same URL pointing at another vhost (percent-encoded)."""
    parts = urllib.parse.urlsplit(amqp_url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + urllib.parse.quote(vhost, safe="")))


def tasks_consumers(amqp_url: str) -> int:
    """Consumers on the tasks queue (0 when the queue does not exist yet or the broker is away)."""
    try:
        connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    except pika.exceptions.AMQPError:
        return 0
    try:
        frame = connection.channel().queue_declare(TASKS_QUEUE, passive=True)
        return int(frame.method.consumer_count)
    except pika.exceptions.ChannelClosedByBroker:
        return 0
    finally:
        if connection.is_open:
            connection.close()


class Vhost:
    """A throw-away vhost (rabbitmqctl) so one test session never sees another's queues."""

    def __init__(self, base_url: str, user: str = "guest", prefix: str = "vsr-test") -> None:
        self.name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.user = user
        self.url = with_vhost(base_url, self.name)
        self._ctl = shutil.which("rabbitmqctl")

    @property
    def available(self) -> bool:
        """True when rabbitmqctl is on PATH (it also needs the broker's Erlang cookie, checked on use)."""
        return self._ctl is not None

    def _run(self, *args: str) -> None:
        assert self._ctl is not None
        subprocess.run([self._ctl, "-q", *args], check=True, timeout=60, capture_output=True)

    def refuse(self) -> None:
        """Refuse new connections of the user to this vhost (as a broker that is down would)."""
        self._run("clear_permissions", "-p", self.name, self.user)

    def admit(self) -> None:
        """Give the user full access to this vhost (again)."""
        self._run("set_permissions", "-p", self.name, self.user, ".*", ".*", ".*")

    def close_connections(self, reason: str = "closed by test") -> None:
        """Force-close every client connection of this vhost, like a broker restart does."""
        self._run("close_all_connections", "--vhost", self.name, reason)

    def __enter__(self) -> Vhost:
        if not self.available:
            raise RuntimeError("rabbitmqctl not found")
        try:
            self._run("add_vhost", self.name)
            self.admit()
        except subprocess.CalledProcessError as exc:
            stderr = exc.stderr.decode(errors="replace").strip() if exc.stderr else ""
            raise RuntimeError(f"rabbitmqctl {' '.join(exc.cmd[2:3])} failed: {stderr}") from exc
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self._run("delete_vhost", self.name)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            log.warning("could not delete vhost %s: %s", self.name, error)
