"""Restart policy of `make up`: services that exit or stop answering are restarted with jittered backoff.

Every service (tritonserver included) gets its own contract.amqp.Backoff: a crash loop waits longer
and longer (up to `max_s`) between restarts, and the backoff starts over once a service stayed up
`stable_s`. A liveness probe that answered once and then fails `misses` polls in a row (a frozen process,
e.g. one holding the GIL) counts as an exit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from contract.amqp import Backoff, Uniform
from devops.process import Service

log = logging.getLogger("devops.local")

Probe = Callable[[], bool]


@dataclass
class Watch:
    """One supervised service, its optional liveness probe and its restart state."""

    service: Service
    probe: Probe | None = None
    backoff: Backoff = field(default_factory=Backoff)
    up_since: float = field(default_factory=time.monotonic)
    #: When the scheduled restart is due (monotonic seconds); None while none is scheduled.
    due: float | None = None
    misses: int = 0
    #: The probe answered since the last (re)start; failures before that are a slow start, not a freeze.
    answered: bool = False


@dataclass
class Policy:
    """Restart knobs: backoff bounds, the uptime that resets the backoff, misses that mean frozen."""

    min_s: float = 1.0
    max_s: float = 60.0
    stable_s: float = 120.0
    #: Consecutive failed liveness probes that restart a service; 0 = restart on exit only.
    misses: int = 15
    grace_s: float = 10.0


class Supervisor:
    """Polls the watched services and restarts them by the policy; `poll` is one round."""

    def __init__(
        self,
        watches: Sequence[Watch],
        policy: Policy,
        clock: Callable[[], float] = time.monotonic,
        rng: Uniform | None = None,
    ) -> None:
        self.watches = list(watches)
        self.policy = policy
        self.clock = clock
        for watch in self.watches:
            watch.backoff = Backoff(policy.min_s, policy.max_s, rng=rng)
            watch.up_since = clock()

    def poll(self) -> None:
        """Restart what is due, then schedule a restart for each service that exited or froze."""
        now = self.clock()
        for watch in self.watches:
            if watch.due is not None:
                if now >= watch.due:
                    self._restart(watch, now)
                continue
            fault = self._fault(watch)
            if fault is not None:
                self._schedule(watch, fault, now)

    def run(self, poll_s: float = 1.0) -> None:
        """Poll forever (until KeyboardInterrupt)."""
        while True:
            time.sleep(poll_s)
            self.poll()

    def _fault(self, watch: Watch) -> str | None:
        process = watch.service.process
        if process is not None and process.poll() is not None:
            return f"exited with code {process.returncode}"
        if watch.probe is None or self.policy.misses <= 0:
            return None
        if watch.probe():
            if not watch.answered:
                log.info("%s answers (pid %s)", watch.service.name, watch.service.pid)
            watch.answered, watch.misses = True, 0
            return None
        if watch.answered:
            watch.misses += 1
        if watch.misses >= self.policy.misses:
            return f"did not answer its liveness probe {watch.misses} times in a row (frozen?)"
        return None

    def _schedule(self, watch: Watch, fault: str, now: float) -> None:
        if now - watch.up_since >= self.policy.stable_s:
            watch.backoff.reset()
        delay = watch.backoff.next_delay()
        watch.due = now + delay
        log.warning("%s %s; restarting in %.1f s (restart %d; log %s)", watch.service.name, fault, delay,
                    watch.service.restarts + 1, watch.service.log_path)

    def _restart(self, watch: Watch, now: float) -> None:
        watch.service.restart(self.policy.grace_s)
        watch.due, watch.up_since, watch.misses, watch.answered = None, now, 0, False
        log.info("%s restarted (pid %s)", watch.service.name, watch.service.pid)
