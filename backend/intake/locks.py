"""One writer per resumable upload: a named lease in the jobs database, held while a PATCH runs.

The lease (``backend.janitor.leases``) holds across every backend replica; a second PATCH of the same upload
gets
423 at once instead of interleaving its bytes. A holder renews it while bytes arrive, so a backend killed
mid-PATCH frees the upload ``HOLD_S`` later and the client resumes from what was written.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from uuid import uuid4

from starlette.concurrency import run_in_threadpool

from backend.errors import UploadBusy
from backend.janitor.leases import Leases
from contract.catalogue import reason

#: How long a writer's lease lasts unrenewed (renewed every third of that while the PATCH runs): short, so
#: that after a backend killed mid-PATCH the client's retries (tus-js-client: about 30 s) get through.
HOLD_S = 10.0


def lease_name(upload_id: str) -> str:
    """The lease of one upload's writer."""
    return f"upload:{upload_id}"


@contextlib.asynccontextmanager
async def writer(leases: Leases | None, upload_id: str, hold_s: float = HOLD_S) -> AsyncIterator[None]:
    """Hold the upload's writer lease for the block; UploadBusy (423) when another request holds it."""
    if leases is None:
        yield
        return
    name, holder = lease_name(upload_id), uuid4().hex
    if not await run_in_threadpool(leases.take, name, holder, hold_s):
        raise UploadBusy(reason("http.upload_busy"))

    async def renew() -> None:
        while True:
            await asyncio.sleep(hold_s / 3)
            await run_in_threadpool(leases.take, name, holder, hold_s)

    renewing = asyncio.create_task(renew())
    try:
        yield
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing
        await run_in_threadpool(leases.release, name, holder)
