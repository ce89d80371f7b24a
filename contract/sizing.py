"""The output-size rule of the backend, the adapter, the CLI and the page: one size, one rounding, one cap.

Sizes are *display* sizes in square pixels, shown upright:

* Display size of stored ``width``×``height`` frames with sample aspect ratio ``sar``: non-square pixels
  are stretched, never squeezed (``sar`` > 1 widens, ``sar`` < 1 heightens), rounded half up — what
  Chromium reports as ``videoWidth``/``videoHeight`` (checked by a test), so the page sees the numbers the
  services compute. A rotation of 90 or 270 degrees then swaps the sides.
* ``scale`` multiplies the display size; ``to_height`` sets the display height and keeps the aspect.
  Both sides are rounded half up to an even number (at least 2): the encoders need even sides.
* ``to_height`` must exceed the display height (otherwise it is no upscale).
* Cap: the result must fit the 7680×4320 box in either orientation (the longer side at most 7680,
  the shorter at most 4320).

The output is square-pixel (SAR 1:1). ``site/sizing.js`` repeats this arithmetic for the page's
prediction; ``tests/contract/test_sizing.py`` proves the two agree.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Final

from contract.catalogue import ReasonError, reason
from contract.limits import MAX_OUTPUT_HEIGHT, MAX_OUTPUT_WIDTH
from contract.models import MODELS

if TYPE_CHECKING:
    from contract.messages import JobOptions

#: The largest output frame (either orientation).
OUTPUT_BOX: Final = (MAX_OUTPUT_WIDTH, MAX_OUTPUT_HEIGHT)
#: Scales a user may ask for, and the heights and scales the page offers.
SCALES: Final = (2, 3, 4)
OFFERED_HEIGHTS: Final = (480, 720, 1080)
OFFERED_SCALES: Final = (2, 4)
_SQUARE = Fraction(1)


def page_sizes() -> dict[str, list[int]]:
    """The rule's inputs as ``/api/config`` gives them to the page: offered heights and scales, the box."""
    return {"heights": list(OFFERED_HEIGHTS), "scales": list(OFFERED_SCALES), "max_output": list(OUTPUT_BOX)}


class SizeRefused(ReasonError):
    """The asked-for size is no upscale, or beyond the output box."""


def round_half_up(value: Fraction) -> int:
    """The nearest whole number, halves up (exact: no float on the way)."""
    return (2 * value.numerator + value.denominator) // (2 * value.denominator)


def even(value: Fraction) -> int:
    """The nearest even number, halves up, at least 2."""
    return max(2, round_half_up(value / 2) * 2)


def display_size(width: int, height: int, *, sar: Fraction = _SQUARE, rotation: int = 0) -> tuple[int, int]:
    """Square-pixel size of stored ``width``×``height`` frames shown upright (see the module rule)."""
    if sar > 1:
        width = round_half_up(width * sar)
    elif sar < 1:
        height = round_half_up(height / sar)
    return (height, width) if rotation % 180 == 90 else (width, height)


def check_output(width: int, height: int, box: tuple[int, int] = OUTPUT_BOX) -> None:
    """Raise SizeRefused when ``width``×``height`` does not fit ``box`` in either orientation."""
    if max(width, height) > max(box) or min(width, height) > min(box):
        limit = {"max_width": box[0], "max_height": box[1]}
        raise SizeRefused(reason("options.output_too_large", width=width, height=height, **limit))


def output_size(
    width: int,
    height: int,
    *,
    scale: int | None = None,
    to_height: int | None = None,
    sar: Fraction = _SQUARE,
    rotation: int = 0,
    box: tuple[int, int] = OUTPUT_BOX,
) -> tuple[int, int]:
    """Output display size of stored ``width``×``height`` frames for ``scale`` or ``to_height`` (one of them).

    Raises SizeRefused when ``to_height`` is no upscale or the result does not fit ``box``.
    """
    if (scale is None) == (to_height is None):
        raise ValueError("give exactly one of scale and to_height")
    shown_w, shown_h = display_size(width, height, sar=sar, rotation=rotation)
    if to_height is not None:
        if to_height <= shown_h:
            raise SizeRefused(reason("options.height_not_larger", height=shown_h))
        out = even(Fraction(to_height * shown_w, shown_h)), even(Fraction(to_height))
    else:
        assert scale is not None
        out = even(Fraction(shown_w * scale)), even(Fraction(shown_h * scale))
    check_output(*out, box=box)
    return out


def job_output_size(
    options: JobOptions,
    width: int,
    height: int,
    *,
    sar: Fraction = _SQUARE,
    rotation: int = 0,
    box: tuple[int, int] = OUTPUT_BOX,
) -> tuple[int, int]:
    """Output size of a job on stored ``width``×``height`` frames: its height, else its (model's) scale."""
    return output_size(
        width,
        height,
        scale=None if options.height is not None else options.scale or MODELS[options.model],
        to_height=options.height,
        sar=sar,
        rotation=rotation,
        box=box,
    )
