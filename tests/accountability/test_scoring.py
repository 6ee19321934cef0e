"""Scoring reproduces a hand-worked example: weights, statuses, a veto and a tie."""

from decimal import Decimal

from accountability.files import DEFAULT_SCORING
from accountability.scoring import Item, score_units

ITEMS = [Item("A", Decimal(10)), Item("B", Decimal(20)), Item("C", Decimal(10), veto=True)]
SCORING = {**DEFAULT_SCORING, "off_track": 0, "missed": 0, "no_data": 0}
UNITS = [("U1", "town"), ("U2", "town"), ("U3", "town"), ("U4", "subdistrict"),
         ("U5", "subdistrict")]  # fmt: skip
STATUSES = {
    ("A", "U1"): "achieved", ("B", "U1"): "at_risk", ("C", "U1"): "on_track",  # 10+10+10 = 30
    ("A", "U2"): "on_track", ("B", "U2"): "achieved", ("C", "U2"): "missed",  # 10+20+0, veto
    ("A", "U3"): "at_risk", ("B", "U3"): "achieved", ("C", "U3"): "achieved",  # 5+20+10 = 35
    ("A", "U4"): "achieved", ("B", "U4"): "at_risk", ("C", "U4"): "achieved",  # 10+10+10 = 30
    # U5 reported nothing: 0, and no data on a veto item is not a veto
}  # fmt: skip


def table(scores):
    return [(s.unit, s.group, s.score, s.rank, s.vetoed) for s in scores]


def test_hand_worked_example_ranked_together():
    scores = score_units(items=ITEMS, scoring=SCORING, units=UNITS, statuses=STATUSES)
    assert table(scores) == [
        ("U3", "town", 35, 1, False),
        ("U1", "town", 30, 2, False),
        ("U4", "subdistrict", 30, 2, False),  # a tie shares the rank…
        ("U5", "subdistrict", 0, 4, False),  # …and the next rank is skipped
        ("U2", "town", 30, 5, True),  # vetoed: after every unit not vetoed, score still shown
    ]
    assert all(s.max_score == 40 for s in scores)
    u3 = next(s for s in scores if s.unit == "U3")
    assert [(i.indicator, i.status, i.points, i.earned) for i in u3.items] == [
        ("A", "at_risk", 10, Decimal("5.00")),
        ("B", "achieved", 20, 20),
        ("C", "achieved", 10, 10),
    ]
    assert [i.status for i in scores[3].items] == ["no_data"] * 3


def test_ranked_within_groups():
    scores = score_units(
        items=ITEMS, scoring=SCORING, units=UNITS, statuses=STATUSES, rank_by_group=True
    )
    assert [(s.unit, s.rank) for s in scores] == [
        ("U4", 1), ("U5", 2),  # subdistricts (街道)
        ("U3", 1), ("U1", 2), ("U2", 3),  # towns (镇)
    ]  # fmt: skip


def test_off_track_on_a_veto_item_vetoes_and_at_risk_does_not():
    units = [("X", ""), ("Y", "")]
    statuses = {("C", "X"): "off_track", ("C", "Y"): "at_risk"}
    scores = {s.unit: s for s in score_units(items=ITEMS, scoring=SCORING, units=units,
                                             statuses=statuses)}  # fmt: skip
    assert scores["X"].vetoed and not scores["Y"].vetoed
    assert (scores["Y"].rank, scores["X"].rank) == (1, 2)
    assert scores["Y"].score == 5
