"""Chaos suite (issue 20): real broker, real tritonserver, real processes; each fault hits a running job.

The stack fixture is the session's (tests/fixtures/stack.py); the e2e helpers are shared, not copied.
"""

from __future__ import annotations

from tests.e2e.conftest import api, e2e_clips

__all__ = ["api", "e2e_clips"]
