"""Upload load for the fault tests: clients that behave like the phone UI, and the judge of the outcome."""

from __future__ import annotations

import io
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
from sqlalchemy import func, select

from serving.pipelines.photos import PhotoPipeline
from tests.support.api import ApiHarness
from workflow.domain.roles import Role
from workflow.persistence.orm import HazardRow

PHOTO = Path(__file__).resolve().parents[1] / "fixtures" / "hardhat" / "images" / "004951.jpg"  # bare heads


def unique_photo(n: int) -> bytes:
    image = cv2.imread(str(PHOTO))
    assert image is not None
    # n's 16 bits as black/white 8x8 squares along the top edge: a distinct photo (content hash) per
    # upload that JPEG quantisation cannot merge (nearby grey values can come out identical).
    for bit in range(16):
        image[:8, bit * 8 : bit * 8 + 8] = 255 if (n >> bit) & 1 else 0
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    return data.tobytes()


@dataclass
class Tally:
    attempted: int = 0
    acknowledged: dict[str, str] = field(default_factory=dict)  # equipment id -> photo id
    refused_503: int = 0
    connection_errors: int = 0
    server_errors: list[str] = field(default_factory=list)  # any 5xx but 503: must stay empty
    lock: threading.Lock = field(default_factory=threading.Lock)

    def summary(self, lost: list[str], duplicated: list[str], swept: int) -> str:
        return (
            f"attempted {self.attempted}, acknowledged {len(self.acknowledged)}, "
            f"503 answers {self.refused_503}, connection errors {self.connection_errors}, "
            f"analyses rerun by the sweep {swept}, "
            f"lost {len(lost)}, duplicated {len(duplicated)}"
        )


def upload_client(h: ApiHarness, worker: int, stop: threading.Event, tally: Tally) -> None:
    """Upload distinct photos (one equipment id each) until ``stop``; each is retried with its own
    Idempotency-Key on 503 or a connection error until the server acknowledges it."""
    n = 0
    while not stop.is_set():
        n += 1
        equipment = f"eq-{worker}-{n}"
        data, key = unique_photo(worker * 1000 + n), secrets.token_hex(8)
        with tally.lock:
            tally.attempted += 1
        for _ in range(200):
            try:
                response = h.client.post(
                    "/api/v1/photos",
                    files={"file": ("site.jpg", io.BytesIO(data), "image/jpeg")},
                    data={"zone": "tank-farm", "equipment_id": equipment},
                    headers=h.auth(Role.INSPECTOR) | {"Idempotency-Key": key},
                )
            except Exception:
                with tally.lock:
                    tally.connection_errors += 1
                time.sleep(0.3)
                continue
            if response.status_code in (200, 201, 202):
                with tally.lock:
                    tally.acknowledged[equipment] = response.json()["photo_id"]
                break
            with tally.lock:
                if response.status_code == 503:
                    tally.refused_503 += 1
                else:
                    tally.server_errors.append(f"{response.status_code} {response.text[:200]}")
            time.sleep(0.3)


def start_clients(h: ApiHarness, count: int, tally: Tally, stop: threading.Event) -> list[threading.Thread]:
    clients = [threading.Thread(target=upload_client, args=(h, w, stop, tally)) for w in range(count)]
    for thread in clients:
        thread.start()
    return clients


def settle(h: ApiHarness, *, until_done: tuple[str, ...] = (), timeout_s: float = 120.0) -> int:
    """Run the service's retry sweep (``hazardeye serve`` runs it every minute) until nothing is left to
    retry and every photo in ``until_done`` reads done; how many analyses it dispatched again."""
    pipeline, retried = PhotoPipeline(h.container), 0
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        again = pipeline.retry_failed()
        retried += again
        pending = [p for p in until_done if _status(h, p) != "done"]
        if again == 0 and not pending:
            return retried
        time.sleep(0.5)
    raise AssertionError(f"photos still not analysed {timeout_s} s after the outages")


def _status(h: ApiHarness, photo_id: str) -> str:
    view = h.client.get(f"/api/v1/photos/{photo_id}", headers=h.auth(Role.INSPECTOR))
    return str(view.json().get("status")) if view.status_code == 200 else f"http {view.status_code}"


def judge(h: ApiHarness, tally: Tally) -> tuple[list[str], list[str]]:
    """(lost, duplicated): acknowledged photos not stored, not analysed or without their hazard, and
    equipment ids with more than one hazard (each upload names its own equipment)."""
    lost = []
    for equipment, photo_id in tally.acknowledged.items():
        status = _status(h, photo_id)
        original = h.client.get(f"/api/v1/objects/{photo_id}", headers=h.auth(Role.INSPECTOR))
        if status != "done" or original.status_code != 200:
            lost.append(f"{equipment}: {status} / object {original.status_code}")
    with h.container.sessions() as session:
        query = select(HazardRow.equipment_id, func.count()).group_by(HazardRow.equipment_id)
        per_equipment = {eq: int(n) for eq, n in session.execute(query).all()}
    duplicated = [f"{eq}: {n} hazards" for eq, n in per_equipment.items() if n != 1]
    for eq, photo_id in tally.acknowledged.items():
        if per_equipment.get(eq, 0) == 0:
            view = h.client.get(f"/api/v1/photos/{photo_id}", headers=h.auth(Role.INSPECTOR)).json()
            hazards = view.get("hazards") or []
            detail = [
                h.client.get(f"/api/v1/hazards/{x['hazard_id']}", headers=h.auth(Role.INSPECTOR)).json()
                for x in hazards
            ]
            found = [
                (d["hazard"]["equipment_id"], d["hazard"]["source_id"][:12], len(d["evidence"]))
                for d in detail
            ]
            lost.append(f"{eq} photo {photo_id[:12]}: no hazard of its own; its analysis names {found}")
    return lost, duplicated
