"""PPE and leak rules on hand-made detections."""

from __future__ import annotations

import numpy as np
import pytest

from vision.detections import Detections
from vision.leak import leak_findings
from vision.ppe import (
    NO_HELMET,
    NO_VEST,
    ZoneRequirements,
    _area,
    _inside_fraction,
    _upper_body,
    count_people,
    person_boxes,
    ppe_findings,
    workers,
)
from vision.rules import findings_for

HARDHAT = ("head", "helmet", "person")


def _dets(rows: list[tuple[str, float, tuple[float, float, float, float]]], names=HARDHAT) -> Detections:
    return Detections(
        np.array([box for _, _, box in rows], np.float32).reshape(-1, 4),
        np.array([conf for _, conf, _ in rows], np.float32),
        np.array([names.index(label) for label, _, _ in rows], np.int64),
        names,
    )


def test_a_head_box_is_a_worker_without_helmet() -> None:
    detections = _dets([("head", 0.8, (10, 10, 30, 30)), ("helmet", 0.9, (100, 10, 120, 30))])
    findings = ppe_findings(detections)
    assert [(f.kind, f.box) for f in findings] == [(NO_HELMET, (10.0, 10.0, 30.0, 30.0))]
    assert findings[0].confidence == np.float32(0.8)


def test_overlapping_head_and_helmet_are_one_person_the_more_confident_wins() -> None:
    helmet_wins = _dets([("head", 0.4, (10, 10, 30, 30)), ("helmet", 0.9, (11, 10, 31, 30))])
    assert ppe_findings(helmet_wins) == []
    assert count_people(helmet_wins) == 1
    head_wins = _dets([("head", 0.9, (10, 10, 30, 30)), ("helmet", 0.4, (11, 10, 31, 30))])
    assert [f.kind for f in ppe_findings(head_wins)] == [NO_HELMET]


def test_a_face_boxed_as_head_inside_a_larger_helmet_box_is_that_helmeted_person() -> None:
    # Measured on a hardhat photo: helmet (128, 0, 238, 113) and a "head" box of the face under it
    # (191, 36, 241, 105): IoU 0.26, but 94 % of the head box lies inside the helmet box.
    helmet_face = _dets([("helmet", 0.59, (128, 0, 238, 113)), ("head", 0.42, (191, 36, 241, 105))])
    assert ppe_findings(helmet_face) == [] and count_people(helmet_face) == 1
    # 59 % inside (just under the 60 % bar) and IoU < 0.5: two people, one of them bare-headed
    beside = _dets([("helmet", 0.9, (0, 0, 100, 100)), ("head", 0.5, (41, 0, 141, 100))])
    assert [f.kind for f in ppe_findings(beside)] == [NO_HELMET] and count_people(beside) == 2
    # 60 % inside: one head
    touching = _dets([("helmet", 0.9, (0, 0, 100, 100)), ("head", 0.5, (40, 0, 140, 100))])
    assert ppe_findings(touching) == [] and count_people(touching) == 1
    # a bare head clearly apart from a helmet stays a finding
    apart = _dets([("helmet", 0.9, (0, 0, 50, 50)), ("head", 0.5, (60, 0, 110, 50))])
    assert [f.kind for f in ppe_findings(apart)] == [NO_HELMET]


def test_heads_are_associated_with_the_person_whose_upper_body_holds_them() -> None:
    detections = _dets(
        [
            ("person", 0.7, (0, 0, 40, 120)),
            ("head", 0.8, (10, 5, 30, 25)),
            ("person", 0.6, (200, 0, 240, 120)),  # head not visible: count it, but no finding
        ]
    )
    people = workers(detections)
    assert len(people) == 2 and count_people(detections) == 2
    attached = next(w for w in people if w.head_box is not None)
    assert attached.person_box == (0.0, 0.0, 40.0, 120.0) and attached.wearing_helmet is False
    assert next(w for w in people if w.head_box is None).wearing_helmet is None
    assert len(ppe_findings(detections)) == 1


def test_a_head_low_in_a_person_box_is_not_attached_to_it() -> None:
    detections = _dets([("person", 0.7, (0, 0, 40, 120)), ("head", 0.8, (10, 90, 30, 110))])
    assert all(w.person_box is None for w in workers(detections) if w.head_box is not None)


def test_zone_without_helmet_requirement_has_no_helmet_findings() -> None:
    detections = _dets([("head", 0.8, (10, 10, 30, 30))])
    assert ppe_findings(detections, ZoneRequirements(helmet=False)) == []


def test_vest_rules_use_the_vest_class_when_the_model_has_one() -> None:
    names = ("head", "helmet", "person", "vest")
    detections = _dets(
        [
            ("person", 0.9, (0, 0, 50, 150)),
            ("vest", 0.8, (5, 40, 45, 90)),
            ("person", 0.85, (100, 0, 150, 150)),
        ],
        names,
    )
    findings = ppe_findings(detections, ZoneRequirements(helmet=True, vest=True))
    assert [(f.kind, f.box) for f in findings] == [(NO_VEST, (100.0, 0.0, 150.0, 150.0))]


def test_explicit_no_vest_class_becomes_a_finding() -> None:
    names = ("person", "no_vest")
    detections = _dets([("no_vest", 0.7, (0, 0, 10, 10))], names)
    assert [f.kind for f in ppe_findings(detections, ZoneRequirements(vest=True))] == [NO_VEST]
    assert ppe_findings(detections, ZoneRequirements(vest=False)) == []


def test_leak_classes_become_leak_findings_through_the_same_rules_layer() -> None:
    names = ("leak", "stain", "corrosion")
    detections = _dets([("stain", 0.6, (0, 0, 5, 5)), ("leak", 0.9, (1, 1, 9, 9))], names)
    assert sorted(f.kind for f in leak_findings(detections)) == ["leak.leak", "leak.stain"]
    assert [f.kind for f in findings_for(detections)] == ["leak.leak", "leak.stain"]  # most confident first


def test_no_detections_no_findings() -> None:
    assert findings_for(Detections.empty(HARDHAT)) == []
    assert count_people(Detections.empty(HARDHAT)) == 0


def test_a_model_with_ppe_and_leak_classes_gets_both_rule_sets_and_the_zones_requirements() -> None:
    names = ("head", "helmet", "person", "leak", "stain", "corrosion")
    detections = _dets([("head", 0.8, (10, 10, 30, 30)), ("leak", 0.9, (100, 100, 140, 140))], names)
    assert [f.kind for f in findings_for(detections)] == ["leak.leak", NO_HELMET]
    assert [f.kind for f in findings_for(detections, ZoneRequirements(helmet=False))] == ["leak.leak"]


def test_a_model_without_ppe_or_leak_classes_gives_no_findings() -> None:
    detections = _dets([("forklift", 0.9, (0, 0, 50, 50))], ("forklift", "pallet"))
    assert findings_for(detections) == []


# Geometry and boundaries pinned by hand (mutation testing found them unpinned).

PPE4 = ("head", "helmet", "person", "vest")


def _box(*values: float) -> np.ndarray:
    return np.array(values, np.float32)


def test_box_area_and_inside_fraction_by_hand() -> None:
    assert _area(_box(2, 3, 10, 7)) == 32.0  # 8 wide, 4 high
    assert _inside_fraction(_box(0, 0, 10, 10), _box(5, 0, 20, 10)) == 0.5
    assert _inside_fraction(_box(0, 0, 10, 10), _box(0, 5, 10, 20)) == 0.5
    assert _inside_fraction(_box(0, 0, 10, 10), _box(20, 20, 30, 30)) == 0.0  # apart
    assert _inside_fraction(_box(0, 0, 10, 10), _box(20, 0, 30, 10)) == 0.0  # side by side
    assert _inside_fraction(_box(0, 0, 10, 10), _box(0, 20, 10, 30)) == 0.0  # one above the other
    assert _inside_fraction(_box(0, 0, 1, 1), _box(0, 0, 5, 5)) == 1.0  # a one-pixel box, inside
    assert _inside_fraction(_box(3, 0, 3, 10), _box(0, 0, 10, 10)) == 0.0  # zero area: never inside


def test_the_upper_body_is_the_top_two_fifths_of_a_person() -> None:
    np.testing.assert_array_equal(_upper_body(_box(10, 20, 50, 120)), [10, 20, 50, 60])


def test_a_large_helmet_box_after_a_small_head_inside_it_is_the_same_head() -> None:
    # The head is more confident, so the helmet box is compared second: still one (bare-headed) person.
    detections = _dets([("head", 0.9, (10, 10, 40, 40)), ("helmet", 0.5, (0, 0, 100, 100))])
    assert count_people(detections) == 1
    assert [f.kind for f in ppe_findings(detections)] == [NO_HELMET]


def test_a_duplicate_head_does_not_hide_the_next_worker() -> None:
    detections = _dets(
        [("head", 0.9, (0, 0, 20, 20)), ("head", 0.8, (1, 0, 21, 20)), ("head", 0.7, (100, 0, 120, 20))]
    )
    assert [w.head_box for w in workers(detections)] == [(0.0, 0.0, 20.0, 20.0), (100.0, 0.0, 120.0, 20.0)]


def test_a_head_half_inside_the_upper_body_is_that_persons() -> None:
    # person (0, 0, 100, 100): upper body y < 40; the head (0, 30, 10, 50) has 100 of its 200 px² there.
    half = _dets([("person", 0.7, (0, 0, 100, 100)), ("head", 0.8, (0, 30, 10, 50))])
    assert [w.person_box for w in workers(half)] == [(0.0, 0.0, 100.0, 100.0)]
    below = _dets([("person", 0.7, (0, 0, 100, 100)), ("head", 0.8, (0, 31, 10, 51))])
    assert [w.person_box for w in workers(below)] == [None, (0.0, 0.0, 100.0, 100.0)]


def test_a_person_without_a_visible_head_keeps_their_own_confidence() -> None:
    (alone,) = workers(_dets([("person", 0.7, (0, 0, 40, 120))]))
    assert alone == type(alone)(None, (0.0, 0.0, 40.0, 120.0), None, pytest.approx(0.7))


def test_helmet_and_vest_findings_are_both_reported() -> None:
    detections = _dets([("head", 0.8, (10, 5, 30, 25)), ("person", 0.6, (0, 0, 40, 120))], PPE4)
    found = ppe_findings(detections, ZoneRequirements(helmet=True, vest=True))
    assert [(f.kind, round(f.confidence, 3), f.box) for f in found] == [
        (NO_HELMET, 0.8, (10.0, 5.0, 30.0, 25.0)),
        (NO_VEST, 0.6, (0.0, 0.0, 40.0, 120.0)),
    ]


def test_a_model_that_cannot_see_vests_makes_no_vest_claims() -> None:
    detections = _dets([("person", 0.6, (0, 0, 40, 120))])  # hardhat classes: no vest, no no_vest
    assert ppe_findings(detections, ZoneRequirements(helmet=False, vest=True)) == []


def test_a_vest_half_inside_a_person_counts_as_worn() -> None:
    worn = _dets([("person", 0.9, (0, 0, 50, 100)), ("vest", 0.8, (25, 40, 75, 60))], PPE4)
    assert ppe_findings(worn, ZoneRequirements(helmet=False, vest=True)) == []
    off = _dets([("person", 0.9, (0, 0, 50, 100)), ("vest", 0.8, (26, 40, 76, 60))], PPE4)
    assert [round(f.confidence, 3) for f in ppe_findings(off, ZoneRequirements(helmet=False, vest=True))] == [
        0.9
    ]


def test_an_explicit_no_vest_finding_keeps_its_confidence_and_box() -> None:
    detections = _dets([("no_vest", 0.7, (0, 0, 10, 10))], ("person", "no_vest"))
    (finding,) = ppe_findings(detections, ZoneRequirements(vest=True))
    assert (round(finding.confidence, 3), finding.box) == (0.7, (0.0, 0.0, 10.0, 10.0))


def test_person_boxes_are_bodies_where_seen_else_heads() -> None:
    detections = _dets(
        [
            ("person", 0.7, (0, 0, 40, 120)),
            ("head", 0.8, (10, 5, 30, 25)),  # inside that person's upper body
            ("helmet", 0.9, (200, 0, 220, 20)),  # a head with no body
            ("person", 0.5, (300, 0, 340, 120)),  # a body with no head
        ]
    )
    assert sorted(person_boxes(detections)) == [
        (0.0, 0.0, 40.0, 120.0),
        (200.0, 0.0, 220.0, 20.0),
        (300.0, 0.0, 340.0, 120.0),
    ]
    assert person_boxes(Detections.empty(HARDHAT)) == []
