"""Publisher, outbox and events consumer against the real RabbitMQ (a private vhost)."""

from __future__ import annotations

import threading
from pathlib import Path

import pika
import pytest
from fastapi.testclient import TestClient

from backend.app import create_app
from backend.dispatch.broker import EventConsumer, Publisher, QueueState
from backend.errors import BrokerUnavailable
from backend.settings import Settings
from contract import amqp, topology
from contract.catalogue import reason
from contract.messages import AnyEvent, DoneEvent, FailedEvent, JobMessage, JobOptions, ProgressEvent
from tests.fixtures.backend import scrape, upload, wait_for
from tests.fixtures.broker import BrokerProxy, channel_for, published_upload, send_events

pytestmark = pytest.mark.rabbitmq




def get_task(url: str) -> tuple[JobMessage, pika.BasicProperties] | None:
    connection, channel = channel_for(url)
    try:
        method, props, body = channel.basic_get(topology.TASKS_QUEUE, auto_ack=True)
        return None if method is None else (JobMessage.model_validate_json(body), props)
    finally:
        connection.close()




def queue_counts(url: str, queue: str) -> tuple[int, int]:
    connection, channel = channel_for(url)
    frame = channel.queue_declare(queue, passive=True)
    connection.close()
    return frame.method.message_count, frame.method.consumer_count




def test_publish_is_confirmed_persistent_and_lands_in_tasks(amqp_url: str) -> None:
    publisher = Publisher(amqp_url)
    message = JobMessage(
        job_id="b" * 32,
        input_key="jobs/" + "b" * 32 + "/input.mp4",
        output_key="jobs/" + "b" * 32 + "/output.mp4",
        options=JobOptions(scale=2),
    )
    publisher.publish(message)
    got = get_task(amqp_url)
    assert got is not None
    task, props = got
    assert task == message and props.delivery_mode == pika.DeliveryMode.Persistent.value
    assert props.content_type == "application/json"
    # Confirms + mandatory: an unroutable task is reported, never silently dropped.
    connection, channel = channel_for(amqp_url)
    channel.queue_unbind(
        topology.TASKS_QUEUE, topology.TASKS_EXCHANGE, routing_key=topology.TASKS_ROUTING_KEY
    )
    try:
        with pytest.raises(BrokerUnavailable):
            publisher.publish(message)
    finally:
        channel.queue_bind(
            topology.TASKS_QUEUE, topology.TASKS_EXCHANGE, routing_key=topology.TASKS_ROUTING_KEY
        )
        connection.close()
        publisher.close()
    assert get_task(amqp_url) is None


def test_upload_is_published_and_events_are_applied_idempotently(
    settings: Settings,
    amqp_url: str,
    clip: Path,
) -> None:
    with published_upload(settings, amqp_url, clip) as (client, store, job_id):
        got = get_task(amqp_url)
        assert got is not None and got[0].job_id == job_id and got[0].options.scale == 2
        assert got[0].input_key == f"jobs/{job_id}/input.mp4"
        wait_for(lambda: client.get("/readyz").status_code == 200, what="readiness")

        def p(done: int) -> bytes:
            return (
                ProgressEvent(job_id=job_id, frames_done=done, frames_total=25, fps=5.0)
                .model_dump_json()
                .encode()
            )

        done = (
            DoneEvent(
                job_id=job_id,
                output_key=f"jobs/{job_id}/output.mp4",
                frames=25,
                width=352,
                height=288,
                seconds=5.0,
            )
            .model_dump_json()
            .encode()
        )
        send_events(
            amqp_url, p(10), p(20), p(5), p(20), b"{not json", p(1).replace(job_id.encode(), b"c" * 32)
        )
        wait_for(lambda: store.get(job_id).frames_done == 20, what="progress")
        job = client.get(f"/api/jobs/{job_id}").json()
        assert job["status"] == "running" and job["progress"] == 0.8
        send_events(
            amqp_url, done, p(22), done, FailedEvent(job_id=job_id, reason="late").model_dump_json().encode()
        )
        wait_for(lambda: store.get(job_id).status == "done", what="done")
        # Everything, including malformed and unknown-job events, is acked once applied.
        wait_for(lambda: queue_counts(amqp_url, topology.EVENTS_QUEUE)[0] == 0, what="events acked")
        job = client.get(f"/api/jobs/{job_id}").json()
        assert job["status"] == "done" and job["progress"] == 1 and job["error"] is None
        assert job["output"] == {"width": 352, "height": 288, "frames": 25}
        metrics = scrape(client)
        assert 'vsr_events_total{type="done"} 1.0' in metrics and "vsr_broker_up 1.0" in metrics
        wait_for(lambda: "vsr_tasks_queue_depth 0.0" in scrape(client), what="queue depth")
    # After the consumer stopped nothing came back as unacked.
    assert queue_counts(amqp_url, topology.EVENTS_QUEUE) == (0, 0)


def test_a_failed_events_code_and_parameters_reach_the_job_json(
    settings: Settings, amqp_url: str, clip: Path
) -> None:
    with published_upload(settings, amqp_url, clip) as (client, store, job_id):
        why = reason("job.gave_up", attempts=4)
        send_events(amqp_url, FailedEvent.from_reason(job_id, why).model_dump_json().encode())
        wait_for(lambda: store.get(job_id).status == "failed", what="the job to fail")
        job = client.get(f"/api/jobs/{job_id}").json()
        assert (job["error_code"], job["error_params"]) == ("job.gave_up", {"attempts": 4})
        assert job["error"] == why.text("en")
        assert 'vsr_job_failures_total 1.0' in scrape(client)


def test_outbox_publishes_after_the_broker_was_unreachable(
    settings: Settings,
    amqp_url: str,
    clip: Path,
    broker_proxy: BrokerProxy,
    vhost: str,
) -> None:
    settings.AMQP_URL = f"amqp://guest:guest@127.0.0.1:{broker_proxy.port}/{vhost}"
    app = create_app(settings, outbox_poll_s=0.2)
    store = app.state.services.store
    with TestClient(app) as client:
        job_id = upload(client, clip, scale="2")["id"]  # accepted although RabbitMQ is unreachable
        assert client.get(f"/api/jobs/{job_id}").json()["status"] == "queued"
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["broker"] == "unreachable"
        threading.Event().wait(1.5)
        assert not store.get(job_id).published and get_task(amqp_url) is None
        broker_proxy.start()
        wait_for(
            lambda: store.get(job_id).published, timeout=30, what="the outbox to publish after the outage"
        )
        assert queue_counts(amqp_url, topology.TASKS_QUEUE) == (1, 0)
        # A cancelled job that never reached the broker is not published afterwards. While the first task
        # is ready and nothing consumes, the fair queue has no room: the second one cannot slip out through
        # a proxied connection that outlives the proxy's stop before the cancel lands.
        broker_proxy.stop()
        second = upload(client, clip, scale="2")["id"]
        assert client.delete(f"/api/jobs/{second}").json()["status"] == "cancelled"
        broker_proxy.start()
        wait_for(lambda: client.get("/readyz").status_code == 200, timeout=30, what="reconnect")
        got = get_task(amqp_url)
        assert got is not None and got[0].job_id == job_id
        threading.Event().wait(1.0)  # outbox passes (every 0.2 s) with room again
        assert not store.get(second).published and get_task(amqp_url) is None


def test_consumer_requeues_when_the_handler_fails_and_acks_after_success(amqp_url: str) -> None:
    calls: list[str] = []
    applied = threading.Event()

    def handle(event: AnyEvent) -> None:
        calls.append(event.job_id)
        if len(calls) == 1:
            raise RuntimeError("database is down")
        applied.set()

    consumer = EventConsumer(amqp_url, handle, backoff=amqp.Backoff(max_s=0.5))
    consumer.start()
    try:
        send_events(
            amqp_url,
            ProgressEvent(job_id="d" * 32, frames_done=1, frames_total=2, fps=1).model_dump_json().encode(),
        )
        assert applied.wait(20), "event was not redelivered after the handler failed"
        assert calls == ["d" * 32, "d" * 32]
        wait_for(lambda: queue_counts(amqp_url, topology.EVENTS_QUEUE)[0] == 0, what="ack")
    finally:
        consumer.stop()
        consumer.join(10)
    assert not consumer.is_alive()
    assert queue_counts(amqp_url, topology.EVENTS_QUEUE) == (0, 0)


def test_dead_lettered_task_fails_the_job_and_stays_in_the_dead_queue(
    settings: Settings, amqp_url: str, clip: Path
) -> None:
    with published_upload(settings, amqp_url, clip) as (client, store, job_id):
        connection, channel = channel_for(amqp_url)
        try:
            # Exhaust the delivery limit the way a worker that dies on every delivery does.
            for _ in range(topology.DELIVERY_LIMIT + 1):
                method = None
                for _ in range(50):
                    method, _props, _body = channel.basic_get(topology.TASKS_QUEUE)
                    if method is not None:
                        break
                    connection.sleep(0.1)
                assert method is not None, "task was not redelivered"
                channel.basic_nack(method.delivery_tag, requeue=True)
        finally:
            connection.close()
        wait_for(lambda: store.get(job_id).status == "failed", what="the job to fail")
        job = client.get(f"/api/jobs/{job_id}").json()
        attempts = topology.DELIVERY_LIMIT + 1
        assert (job["error_code"], job["error_params"]) == ("job.gave_up", {"attempts": attempts})
        assert job["error"] == f"Gave up after {attempts} attempts: every one ended without a result."
        assert queue_counts(amqp_url, topology.DEAD_QUEUE)[0] == 1


def test_queue_state_counts_ready_messages_and_consumers(amqp_url: str) -> None:
    publisher = Publisher(amqp_url)
    message = JobMessage(
        job_id="e" * 32, input_key=f"jobs/{'e' * 32}/input.mp4", output_key=f"jobs/{'e' * 32}/output.mp4"
    )
    connection, channel = channel_for(amqp_url)
    try:
        assert publisher.queue_state() == QueueState(ready=0, consumers=0)
        publisher.publish(message)
        publisher.publish(message)
        assert publisher.queue_state() == QueueState(ready=2, consumers=0)
        channel.basic_qos(prefetch_count=1)  # as an adapter: one unacked delivery at a time
        channel.basic_consume(topology.TASKS_QUEUE, lambda *_: None)
        wait_for(lambda: publisher.queue_state() == QueueState(ready=1, consumers=1), what="one delivered")
    finally:
        connection.close()
        publisher.close()


def test_the_fair_outbox_keeps_one_task_ready_and_exports_the_backlog(
    settings: Settings, amqp_url: str, clip: Path
) -> None:
    settings.AMQP_URL = amqp_url
    app = create_app(settings, outbox_poll_s=0.2)
    store = app.state.services.store
    with TestClient(app) as client:
        ids = [upload(client, clip, scale="2")["id"] for _ in range(3)]
        wait_for(lambda: store.get(ids[0]).published, what="the first task")
        wait_for(lambda: "vsr_tasks_waiting 3.0" in scrape(client), what="the backlog gauge")
        # No adapter consumes: one ready message (scale from zero), the rest wait in the database.
        assert queue_counts(amqp_url, topology.TASKS_QUEUE) == (1, 0)
        assert [store.get(i).published for i in ids] == [True, False, False]
        got = get_task(amqp_url)
        assert got is not None and got[0].job_id == ids[0]
        wait_for(lambda: store.get(ids[1]).published, what="the next one, once there is room")
        assert not store.get(ids[2]).published


def test_without_the_fair_queue_every_upload_is_published_at_once(
    settings: Settings, amqp_url: str, clip: Path
) -> None:
    settings.AMQP_URL, settings.FAIR_QUEUE = amqp_url, False
    app = create_app(settings, outbox_poll_s=0.2)
    store = app.state.services.store
    with TestClient(app) as client:
        ids = [upload(client, clip, scale="2")["id"] for _ in range(3)]
        wait_for(lambda: all(store.get(i).published for i in ids), what="every task published")
        assert queue_counts(amqp_url, topology.TASKS_QUEUE) == (3, 0)
        wait_for(lambda: "vsr_tasks_waiting 3.0" in scrape(client), what="all 3 ready")
