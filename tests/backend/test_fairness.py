"""The fair order (backend.dispatch.fairness): round-robin across owners per task, FIFO within one,
weights."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.dispatch import fairness
from backend.dispatch.fairness import WHOLE, Item
from backend.settings import Settings, parse_weights

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def jobs_of(owner: str, count: int, start: float = 0.0) -> list[Item]:
    """``count`` whole-video jobs of ``owner`` uploaded a second apart from ``start``."""
    return [Item(owner, f"{owner}{i:02d}", WHOLE, at(start + i)) for i in range(count)]


def owners(items: list[Item]) -> str:
    return "".join(item.owner for item in items)


def test_b_arriving_behind_twelve_of_a_goes_next() -> None:
    a = jobs_of("A", 12)
    b = jobs_of("B", 1, start=100)
    # A was served just now (its previous task is running): B, never served, is next.
    order = fairness.order(a + b, {"A": [at(99)]})
    assert order.index(b[0]) == 0
    # Even with no memory at all, B is among the first 2.
    assert fairness.order(a + b, {}).index(b[0]) <= 1


def test_owners_alternate_per_task_and_each_line_stays_fifo() -> None:
    a, b = jobs_of("A", 4), jobs_of("B", 2, start=0.5)
    order = fairness.order(list(reversed(a + b)), {})
    assert owners(order) == "ABABAA"
    assert [i for i in order if i.owner == "A"] == a, "FIFO by upload time within an owner"


def test_segments_count_one_turn_each_and_keep_their_index_order() -> None:
    long = [Item("A", "a" * 32, index, at(0)) for index in (2, 0, 1)]
    short = jobs_of("B", 2, start=5)
    order = fairness.order(long + short, {})
    assert [(i.owner, i.index) for i in order] == [("A", 0), ("B", WHOLE), ("A", 1), ("B", WHOLE), ("A", 2)]


def test_the_owner_served_least_recently_goes_first() -> None:
    a, b, c = jobs_of("A", 2), jobs_of("B", 2, 10), jobs_of("C", 2, 20)
    served = {"A": [at(50)], "B": [at(30)]}  # C never, then B (longer ago), then A
    assert owners(fairness.order(a + b + c, served)) == "CBACBA"


def test_ties_go_to_the_oldest_waiting_task() -> None:
    b, a = jobs_of("B", 1, start=1), jobs_of("A", 1, start=2)
    assert owners(fairness.order(a + b, {})) == "BA"


def test_weights_give_turns_in_proportion() -> None:
    a, b = jobs_of("A", 6), jobs_of("B", 3, start=0.5)
    assert owners(fairness.order(a + b, {}, {"A": 2})) == "ABAABAABA"  # 2:1 per round
    assert owners(fairness.order(a + b, {}, {"B": 3})) == "ABBBAAAAA"


def test_weighted_owner_counts_its_weight_th_latest_turn() -> None:
    a, b = jobs_of("A", 3), jobs_of("B", 3, start=0.5)
    # A (weight 2) had one turn at 10, B one at 5: A still has a turn left this round.
    assert owners(fairness.order(a + b, {"A": [at(10)], "B": [at(5)]}, {"A": 2})) == "AB" + "AAB" + "B"


def test_a_restart_continues_the_rotation_from_stored_turns() -> None:
    """Publishing part of the order, storing the turns and ordering again gives the same sequence."""
    a, b, c = jobs_of("A", 5), jobs_of("B", 3, 1), jobs_of("C", 2, 2)
    whole = fairness.order(a + b + c, {}, {"A": 2})
    served: dict[str, list[datetime]] = {}
    done: list[Item] = []
    for step, item in enumerate(whole[:4]):  # the backend publishes 4 tasks, then restarts
        served.setdefault(item.owner, []).insert(0, at(1000 + step))
        done.append(item)
    rest = [item for item in a + b + c if item not in done]
    assert done + fairness.order(rest, served, {"A": 2}) == whole


def test_assembly_goes_before_everyone() -> None:
    a = jobs_of("A", 3)
    assembly = Item("B", "b" * 32, 4, at(50), assembly=True)
    order = fairness.order([*a, assembly], {"B": [at(99)], "A": [at(1)]})
    assert order[0] == assembly


def test_naive_and_aware_times_mix() -> None:
    naive = Item("A", "a", WHOLE, datetime(2026, 11, 1, 12, 0))
    aware = Item("B", "b", WHOLE, at(-1))
    served = {"A": [datetime(2026, 11, 1, 13, 0)], "B": [at(7200)]}
    assert fairness.order([naive, aware], served) == [naive, aware]


def test_weights_setting() -> None:
    assert parse_weights("ownerA=2, ownerB=1,,") == {"ownerA": 2, "ownerB": 1}
    assert parse_weights("") == {}
    assert parse_weights("sub=with=equals=3") == {"sub=with=equals": 3}
    assert Settings(FAIR_WEIGHTS="x=4").fair_weights() == {"x": 4}
    for bad in ("a", "a=0", "=2", "a=two"):
        with pytest.raises(ValueError):
            parse_weights(bad)
        with pytest.raises(ValueError):
            Settings(FAIR_WEIGHTS=bad)
