from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workflow.domain.errors import ClockSkew, InvalidInput
from workflow.domain.evidence import Verdict, VerificationOutcome
from workflow.domain.observations import Observation, SourceKind, check_not_future, dedup_key, repeat_key

T = datetime(2026, 1, 1, tzinfo=UTC)


def obs(**kw: object) -> Observation:
    base: dict[str, object] = {
        "observation_id": "o1",
        "kind": "ppe.no_helmet",
        "confidence": 0.9,
        "zone": "z1",
        "source_kind": SourceKind.CAMERA,
        "source_id": "cam1",
        "observed_at": T,
    }
    base.update(kw)
    return Observation(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "helmet"},
        {"kind": "PPE.x"},
        {"confidence": float("nan")},
        {"confidence": 1.5},
        {"confidence": -0.1},
        {"zone": " "},
        {"observation_id": ""},
        {"observed_at": datetime(2026, 1, 1)},
        {"source_kind": "drone"},
        {"evidence_keys": ("",)},
        {"box": (10.0, 10.0, 5.0, 20.0)},
        {"box": (0.0, 0.0, float("inf"), 1.0)},
    ],
)
def test_bad_observations(bad: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        obs(**bad)


def test_dedup_key_per_camera_and_per_equipment() -> None:
    assert dedup_key(obs()) == dedup_key(obs(observation_id="o2", evidence_keys=("k",)))
    assert dedup_key(obs()) != dedup_key(obs(source_id="cam2"))
    a = obs(source_kind=SourceKind.PHOTO, source_id="up1", equipment_id="F-12")
    b = obs(source_kind=SourceKind.PHOTO, source_id="up2", equipment_id="F-12")
    assert dedup_key(a) == dedup_key(b)


def test_clock_skew() -> None:
    check_not_future(T + timedelta(minutes=1), T, timedelta(minutes=2), "t")
    with pytest.raises(ClockSkew):
        check_not_future(T + timedelta(minutes=3), T, timedelta(minutes=2), "t")


def test_verification_round_trip_and_bounds() -> None:
    v = VerificationOutcome(Verdict.NEEDS_REINSPECTION, 0.62, 40, 0.1)
    assert VerificationOutcome.from_json(v.to_json()) == v
    with pytest.raises(InvalidInput):
        VerificationOutcome(Verdict.RESOLVED, float("nan"))
    with pytest.raises(InvalidInput):
        VerificationOutcome(Verdict.RESOLVED, 0.9, -1)


def test_photos_merge_only_when_they_name_the_same_equipment() -> None:
    def photo(source: str, equipment: str | None, kind: SourceKind = SourceKind.PHOTO) -> Observation:
        return Observation(observation_id=f"o-{source}", kind="ppe.no_helmet", confidence=0.9, zone="bay-2",
                           source_kind=kind, source_id=source, observed_at=datetime(2026, 3, 2, tzinfo=UTC),
                           equipment_id=equipment)  # fmt: skip

    # Two photos of one zone without equipment: two places, two hazards.
    assert dedup_key(photo("p1", None)) == "ppe.no_helmet|bay-2|photo:p1"
    assert dedup_key(photo("p2", None)) == "ppe.no_helmet|bay-2|photo:p2"
    # The same equipment is the same place, whichever photo shows it.
    assert (
        dedup_key(photo("p1", "P-101"))
        == dedup_key(photo("p2", "P-101"))
        == "ppe.no_helmet|bay-2|equipment:P-101"
    )
    # A report by hand without equipment is about the zone; a camera is its own place.
    assert dedup_key(photo("r1", None, SourceKind.MANUAL)) == "ppe.no_helmet|bay-2|equipment:-"
    assert dedup_key(photo("cam-4", None, SourceKind.CAMERA)) == "ppe.no_helmet|bay-2|camera:cam-4"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"observation_id": "x" * 129}, "observation_id must be 1–128 characters"),
        ({"kind": "helmet"}, "observation kind 'helmet' must look like 'family.name' (e.g. ppe.no_helmet)"),
        ({"confidence": "high"}, "confidence must be a finite number, got 'high'"),
        ({"confidence": float("inf")}, "confidence must be a finite number, got inf"),
        ({"confidence": 1.01}, "confidence must be within 0–1, got 1.01"),
        ({"zone": ""}, "zone must not be empty"),
        ({"source_id": " "}, "source_id must not be empty"),
        (
            {"source_kind": "drone"},
            "source_kind must be one of ['camera', 'photo', 'sensor', 'manual'], got 'drone'",
        ),
        ({"evidence_keys": ("a", "")}, "evidence keys must not be empty strings"),
        (
            {"box": (0.0, 0.0, 1.0)},
            "box must be finite x1, y1, x2, y2 with x2 ≥ x1 and y2 ≥ y1, got (0.0, 0.0, 1.0)",
        ),
        ({"box": (0.0, 5.0, 1.0, 4.0)}, "box must be finite x1, y1, x2, y2 with x2 ≥ x1 and y2 ≥ y1"),
        ({"box": (0.0, 0.0, 1.0, float("nan"))}, "box must be finite"),
    ],
)
def test_bad_observations_say_what_is_wrong(bad: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        obs(**bad)
    assert str(refused.value).startswith(message)


def test_observations_on_their_bounds_are_accepted() -> None:
    assert obs(observation_id="x" * 128).observation_id == "x" * 128
    assert obs(confidence=0.0).confidence == 0.0 and obs(confidence=1).confidence == 1
    assert obs(box=(3.0, 4.0, 3.0, 4.0)).box == (3.0, 4.0, 3.0, 4.0)  # a point is a (tiny) box
    coerced = obs(source_kind="photo", evidence_keys=["a", "b"])
    assert coerced.source_kind is SourceKind.PHOTO and coerced.evidence_keys == ("a", "b")
    assert obs(kind="leak.stain.wet").family == "leak"


def test_fixed_sources_merge_per_source_even_when_they_name_equipment() -> None:
    assert dedup_key(obs(source_kind=SourceKind.SENSOR, source_id="cl2-1", equipment_id="P-1")) == (
        "ppe.no_helmet|z1|sensor:cl2-1"
    )
    assert dedup_key(obs(equipment_id="P-1")) == "ppe.no_helmet|z1|camera:cam1"


def test_repeats_count_per_equipment_else_per_area() -> None:
    assert repeat_key("leak.drip", "F-12", "tank farm") == "leak.drip|equipment:F-12"
    assert repeat_key("leak.drip", None, "tank farm") == "leak.drip|area:tank farm"
    assert repeat_key("leak.drip", "", "tank farm") == "leak.drip|area:tank farm"


def test_a_timestamp_exactly_at_the_tolerated_skew_is_accepted() -> None:
    check_not_future(T + timedelta(minutes=2), T, timedelta(minutes=2), "observed_at")
    with pytest.raises(ClockSkew) as refused:
        check_not_future(T + timedelta(minutes=2, microseconds=1), T, timedelta(minutes=2), "observed_at")
    assert str(refused.value) == (
        "observed_at 2026-01-01T00:02:00.000001+00:00 is ahead of the server clock "
        "2026-01-01T00:00:00+00:00 by more than 0:02:00"
    )


def test_a_naive_observation_time_is_refused_by_name() -> None:
    with pytest.raises(
        InvalidInput, match=r"^observed_at must be timezone-aware, got naive 2026-01-01T00:00:00$"
    ):
        obs(observed_at=datetime(2026, 1, 1))
