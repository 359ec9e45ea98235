"""The verification outcome the evidence chain stores: its bounds and its stored JSON, written out by hand."""

from __future__ import annotations

import math

import pytest

from workflow.domain.errors import InvalidInput
from workflow.domain.evidence import Verdict, VerificationOutcome


@pytest.mark.parametrize("score", [0.0, 1.0, 0.5])
def test_scores_on_the_bounds_are_accepted(score: float) -> None:
    outcome = VerificationOutcome(Verdict.RESOLVED, score, hazard_score=score)
    assert (outcome.match_score, outcome.hazard_score) == (score, score)


@pytest.mark.parametrize("score", [-0.001, 1.001, math.nan, math.inf, -math.inf])
def test_a_match_score_outside_0_1_is_refused(score: float) -> None:
    with pytest.raises(InvalidInput, match=r"^verification scores must be finite and within 0–1, got \["):
        VerificationOutcome(Verdict.RESOLVED, score)


@pytest.mark.parametrize("score", [-0.001, 1.001, math.nan])
def test_a_hazard_score_outside_0_1_is_refused(score: float) -> None:
    with pytest.raises(InvalidInput, match=r"^verification scores must be finite and within 0–1, got \["):
        VerificationOutcome(Verdict.RESOLVED, 0.9, hazard_score=score)


def test_a_score_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(InvalidInput, match="finite"):
        VerificationOutcome(Verdict.RESOLVED, "0.9")  # type: ignore[arg-type]


def test_inliers_may_be_zero_but_not_negative() -> None:
    assert VerificationOutcome(Verdict.NEEDS_REINSPECTION, 0.1, 0).inliers == 0
    with pytest.raises(InvalidInput, match=r"^inliers must be ≥ 0$"):
        VerificationOutcome(Verdict.NEEDS_REINSPECTION, 0.1, -1)


@pytest.mark.parametrize(("checked", "resolved"), [(0, None), (3, 0), (3, 3), (1, None)])
def test_regions_resolved_between_zero_and_checked_are_accepted(checked: int, resolved: int | None) -> None:
    outcome = VerificationOutcome(
        Verdict.NOT_RESOLVED, 0.9, regions_checked=checked, regions_resolved=resolved
    )
    assert (outcome.regions_checked, outcome.regions_resolved) == (checked, resolved)


@pytest.mark.parametrize(("checked", "resolved"), [(3, 4), (3, -1), (-1, None), (0, 1)])
def test_regions_resolved_outside_zero_to_checked_are_refused(checked: int, resolved: int | None) -> None:
    with pytest.raises(InvalidInput, match=r"^regions resolved must be between 0 and the regions checked$"):
        VerificationOutcome(Verdict.NOT_RESOLVED, 0.9, regions_checked=checked, regions_resolved=resolved)


def test_reasons_are_capped_at_six_of_300_characters() -> None:
    reasons = tuple(f"r{i}" for i in range(7))
    outcome = VerificationOutcome(Verdict.NOT_RESOLVED, 0.9, reasons=(*reasons[:5], "x" * 301, "late"))
    assert outcome.reasons == ("r0", "r1", "r2", "r3", "r4", "x" * 300)
    exact = VerificationOutcome(Verdict.NOT_RESOLVED, 0.9, reasons=("y" * 300,) * 6)
    assert exact.reasons == ("y" * 300,) * 6


def test_a_verdict_given_as_text_becomes_the_enum() -> None:
    outcome = VerificationOutcome("different_scene", 0.05)  # type: ignore[arg-type]
    assert outcome.verdict is Verdict.DIFFERENT_SCENE
    with pytest.raises(ValueError, match="'fixed' is not a valid Verdict"):
        VerificationOutcome("fixed", 0.5)  # type: ignore[arg-type]


def test_stored_json_is_sorted_and_complete() -> None:
    outcome = VerificationOutcome(
        Verdict.NOT_RESOLVED, 0.93, 120, 0.4, ("hazard still there",), regions_checked=2, regions_resolved=1
    )
    assert outcome.to_json() == (
        '{"hazard_score": 0.4, "inliers": 120, "match_score": 0.93, "reasons": ["hazard still there"], '
        '"regions_checked": 2, "regions_resolved": 1, "verdict": "not_resolved"}'
    )


def test_stored_json_reads_back_field_by_field() -> None:
    text = (
        '{"hazard_score": null, "inliers": 57, "match_score": 0.88, "reasons": ["a", "b"], '
        '"regions_checked": 4, "regions_resolved": 2, "verdict": "resolved"}'
    )
    assert VerificationOutcome.from_json(text) == VerificationOutcome(
        Verdict.RESOLVED, 0.88, 57, None, ("a", "b"), regions_checked=4, regions_resolved=2
    )


def test_evidence_stored_before_reasons_and_regions_reads_with_their_defaults() -> None:
    legacy = '{"hazard_score": 0.1, "inliers": 9, "match_score": 0.5, "verdict": "needs_reinspection"}'
    assert VerificationOutcome.from_json(legacy) == VerificationOutcome(
        Verdict.NEEDS_REINSPECTION, 0.5, 9, 0.1, (), regions_checked=1, regions_resolved=None
    )
