"""PPE and leak rules on hand-made detections."""

from __future__ import annotations

import numpy as np

from vision.detections import Detections
from vision.leak import leak_findings
from vision.ppe import NO_HELMET, NO_VEST, ZoneRequirements, count_people, ppe_findings, workers
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
