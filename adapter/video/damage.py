"""Damaged streams keep going: lost pictures are replaced by the last good one, and counted.

A broadcast recording, a file copied from a failing card or an interrupted download has damaged bytes
here and there. Players carry on past them, showing the last good picture until the next one decodes;
so does the decoder (``adapter.video.decode``): a packet the decoder refuses is skipped, the decoder's own
error concealment is kept, and once the stream has shown damage (a packet the demuxer flags corrupt, a
packet that fails to decode, a picture the decoder flags concealed) every hole in the timeline longer
than 1.5 frame steps is filled with copies of the last good picture, so frame count, timing and sound
sync stay what a player shows. A hole in a stream that shows no damage is left alone: that is variable
frame rate (a screen recording), not loss.

The job fails only when more than ``max_share`` of its pictures were lost, or when nothing decodes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction

from adapter.errors import InvalidInputError
from contract.catalogue import Reason, reason

#: Default share of lost pictures past which a job fails (setting ``DAMAGE_MAX_SHARE``).
MAX_SHARE = 0.2
#: A hole longer than this many frame steps holds lost pictures (1.5: a late timestamp is not a loss).
GAP_STEPS = Fraction(3, 2)


@dataclass
class Damage:
    """What one decoder met: evidence of damage, pictures lost (filled) and pictures handed out."""

    max_share: float = MAX_SHARE
    #: Demuxed packets flagged corrupt, packets the decoder refused, pictures it concealed, demux stops.
    evidence: int = 0
    #: Pictures missing from the timeline, replaced by the last good one.
    lost: int = 0
    #: Pictures handed out, replacements included.
    total: int = 0
    #: Pictures the decoder itself produced (its concealed ones included).
    decoded: int = field(default=0)

    @property
    def seen(self) -> bool:
        """Whether the stream has shown damage so far."""
        return self.evidence > 0

    def missing(self, last: int, pts: int, step: Fraction) -> Iterator[int]:
        """The timestamps of pictures lost between ``last`` and ``pts`` (none unless damage was seen)."""
        if not self.seen or step <= 0 or pts - last <= step * GAP_STEPS:
            return
        at = last + step
        while at < pts - step / 2:
            self.lost += 1
            yield round(at)
            at += step

    def check(self, *, final: bool, planned: int = 0) -> None:
        """Fail once too much is lost (``planned``: the frames expected, for an early stop)."""
        whole = max(self.total, planned) if not final else self.total
        if final and self.decoded == 0 and self.seen:
            self._fail(max(planned, 1), max(planned, 1))
        if whole and self.lost > self.max_share * whole:
            self._fail(self.lost, whole)

    def _fail(self, lost: int, total: int) -> None:
        limit = round(self.max_share * 100)
        raise InvalidInputError(reason("media.too_damaged", lost=lost, total=total, limit=limit))

    def note(self) -> Reason | None:
        """The job's note when pictures were replaced (None when none was)."""
        if not self.lost:
            return None
        return reason("note.frames_damaged", lost=self.lost, total=self.total)
