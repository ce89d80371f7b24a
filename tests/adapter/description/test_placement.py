"""Placement: pauses first, ducking when none fits, no overlaps, every cue starts inside its scene."""

from __future__ import annotations

import itertools

from adapter.description.placement import GAP_S, Pending, place
from adapter.description.scenes import Scene


def test_cue_goes_into_the_first_pause_that_holds_it() -> None:
    scene = Scene(0.0, 10.0)
    cues = place([Pending(scene, "a", 1.0)], [(1.0, 1.5), (3.0, 6.0)])
    assert [(c.start, c.ducked) for c in cues] == [(3.0, False)]


def test_cue_is_ducked_when_no_pause_fits_in_its_scene() -> None:
    scene = Scene(2.0, 4.0)
    cues = place([Pending(scene, "a", 1.5)], [(0.0, 1.0), (3.0, 3.5), (5.0, 9.0)])
    assert [(c.start, c.ducked) for c in cues] == [(2.0, True)]


def test_cues_never_overlap_and_start_inside_their_scene() -> None:
    scenes = [Scene(0.0, 1.0), Scene(1.0, 2.5), Scene(2.5, 2.8), Scene(2.8, 8.0)]
    pending = [Pending(s, f"s{i}", 1.2) for i, s in enumerate(scenes)]
    cues = place(pending, [(0.0, 8.0)])
    for before, after in itertools.pairwise(cues):
        assert after.start >= before.end + GAP_S - 1e-9
    by_text = {p.text: p.scene for p in pending}
    for cue in cues:
        assert by_text[cue.text].start <= cue.start < by_text[cue.text].end
    # The third shot is entirely covered by the second description, so it is skipped.
    assert [c.text for c in cues] == ["s0", "s1", "s3"]


def test_a_description_too_long_for_the_pause_drops_its_optional_detail() -> None:
    scene = Scene(0.0, 6.0)
    short = Pending(scene, "A person.", 1.0, frozenset({"people"}))
    whole = Pending(scene, "A person. Facing the camera.", 2.5, frozenset({"people"}), short)
    (roomy,) = place([whole], [(1.0, 4.0)])
    assert (roomy.text, roomy.start, roomy.ducked) == ("A person. Facing the camera.", 1.0, False)
    (tight,) = place([whole], [(1.0, 2.5)])  # 1.5 s of pause: only the short form fits
    assert (tight.text, tight.start, tight.end, tight.ducked) == ("A person.", 1.0, 2.0, False)
    (over,) = place([whole], [(1.0, 1.5)])  # nothing fits: the short form is spoken over the dialogue
    assert (over.text, over.start, over.ducked) == ("A person.", 0.0, True)
