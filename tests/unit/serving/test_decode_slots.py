"""Photo decodes in flight are bounded: the next one waits, then is refused with a retryable 503."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from serving.pipelines.decodes import DecodeBusyError, DecodeSlots
from serving.settings import PhotoSettings
from tests.support.api import api_harness, embedded_settings
from workflow.domain.roles import Role
from workflow.persistence.photo_rows import PhotoRow

PHOTO = Path(__file__).resolve().parents[2] / "fixtures" / "hardhat" / "images" / "004944.jpg"


def test_a_decode_waits_for_a_free_slot_and_proceeds_when_one_is_released() -> None:
    slots = DecodeSlots(2, wait_s=5.0)
    entered = threading.Event()

    def third() -> None:
        with slots.hold("c"):
            entered.set()

    with slots.hold("a"), slots.hold("b"):
        waiter = threading.Thread(target=third)
        waiter.start()
        assert not entered.wait(0.2)  # both slots held: the third decode waits
    waiter.join(5.0)
    assert entered.is_set()


def test_no_free_slot_within_the_wait_is_a_busy_error_naming_the_photo() -> None:
    slots = DecodeSlots(1, wait_s=0.05)
    busy = pytest.raises(DecodeBusyError, match=r"second\.jpg: all 1 image decode")
    with slots.hold("first.jpg"), busy, slots.hold("second.jpg"):
        pass
    with slots.hold("third.jpg"):  # released after the error: usable again
        pass


def test_zero_slots_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        DecodeSlots(0, wait_s=1.0)


def test_an_upload_finding_every_slot_busy_gets_503_with_retry_after_and_nothing_is_kept(
    tmp_path: Path,
) -> None:
    settings = embedded_settings(tmp_path, photos=PhotoSettings(decodes_in_flight=1, decode_wait_s=0.05))
    with api_harness(settings) as h, h.container.decodes.hold("a large photo being decoded"):
        response = h.client.post(
            "/api/v1/photos",
            files={"file": ("site.jpg", PHOTO.read_bytes(), "image/jpeg")},
            data={"zone": "tank-farm"},
            headers=h.auth(Role.INSPECTOR),
        )
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == "5"
        assert response.json()["detail"]["error"] == "busy"
        with h.container.sessions() as session:
            assert session.scalar(select(func.count()).select_from(PhotoRow)) == 0
