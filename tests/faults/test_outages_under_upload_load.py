"""Faults under load (issue 12): PostgreSQL stopped and started, then S3 cut and restored, while inspectors
keep uploading; every acknowledged photo must end stored and analysed, once.

The service is the production profile's storage (a private PostgreSQL, S3 = moto behind a cuttable TCP
proxy) with inline analysis; clients behave like the phone UI: one Idempotency-Key per photo, retried
on 503 and connection errors until acknowledged. After the outages the service's own retry sweep runs
(no restart). Counts are printed: attempted, acknowledged, lost, duplicated (lost and duplicated must be 0).
"""

from __future__ import annotations

import io
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import pytest
from minio import Minio
from sqlalchemy import func, select

from serving.objects.s3 import S3ObjectStore
from serving.pipelines.photos import PhotoPipeline
from serving.settings import DatabaseSettings, PhotoSettings, S3ObjectStoreSettings
from tests.support.api import ApiHarness, api_harness, embedded_settings
from tests.support.private_postgres import PrivatePostgres, private_postgres
from tests.support.tcp_proxy import TcpProxy
from workflow.domain.roles import Role
from workflow.persistence.orm import HazardRow

pytestmark = [pytest.mark.integration, pytest.mark.slow]
PHOTO = Path(__file__).resolve().parents[1] / "fixtures" / "hardhat" / "images" / "004951.jpg"  # bare heads
VENV_BIN = Path(sys.executable).parent
CLIENTS = 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def moto_port(tmp_path: Path) -> Iterator[int]:
    port = _free_port()
    log = (tmp_path / "moto.log").open("wb")
    proc = subprocess.Popen(
        [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 20
        while subprocess.run(
            ["bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{port}"], capture_output=True
        ).returncode:
            if time.monotonic() > deadline:
                pytest.fail("moto_server did not start")
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _unique_photo(n: int) -> bytes:
    image = cv2.imread(str(PHOTO))
    assert image is not None
    image[:6, :6] = (n * 37 % 256, n * 91 % 256, n * 13 % 256)  # a corner stamp: a distinct photo per upload
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


def _client(h: ApiHarness, worker: int, stop: threading.Event, tally: Tally) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        equipment = f"eq-{worker}-{n}"
        data, key = _unique_photo(worker * 1000 + n), secrets.token_hex(8)
        with tally.lock:
            tally.attempted += 1
        for _ in range(200):  # the phone UI keeps its key and retries until the server says yes
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


def test_no_acknowledged_upload_is_lost_or_duplicated_across_database_and_s3_outages(
    tmp_path: Path, moto_port: int
) -> None:
    proxy = TcpProxy(moto_port)
    proxy.restore()
    try:
        _load_through_outages(tmp_path, proxy)
    finally:
        proxy.cut()


def _load_through_outages(tmp_path: Path, proxy: TcpProxy) -> None:
    bucket = f"hz-faults-{secrets.token_hex(4)}"
    S3ObjectStore(
        Minio(proxy.endpoint, "test", "test", secure=False, region="us-east-1"), bucket
    ).ensure_bucket()
    with private_postgres() as pg:
        settings = embedded_settings(
            tmp_path,
            database=DatabaseSettings(url=pg.url),
            objects=S3ObjectStoreSettings(
                kind="s3",
                endpoint=proxy.endpoint,
                access_key="test",
                secret_key="test",
                bucket=bucket,
                region="us-east-1",
            ),
            photos=PhotoSettings(retry_after_s=0.0),
        )
        with api_harness(settings) as h:
            tally = _run_load_through_outages(h, pg, proxy)
            swept = _settle(h)
            lost, duplicated = _judge(h, tally)
            print(
                f"\nfaults: attempted {tally.attempted}, acknowledged {len(tally.acknowledged)}, "
                f"503 answers {tally.refused_503}, connection errors {tally.connection_errors}, "
                f"analyses rerun by the sweep {swept}, lost {len(lost)}, duplicated {len(duplicated)}"
            )
            assert tally.server_errors == []
            assert lost == [] and duplicated == []
            assert len(tally.acknowledged) >= 6  # the load really ran through the outages
            audit = h.client.get("/api/v1/audit/verify", headers=h.auth(Role.ADMIN)).json()
            assert audit["ok"], audit
            assert h.client.get("/health").status_code == 200  # recovered without a restart


def _run_load_through_outages(h: ApiHarness, pg: PrivatePostgres, proxy: TcpProxy) -> Tally:
    tally, stop = Tally(), threading.Event()
    clients = [threading.Thread(target=_client, args=(h, w, stop, tally)) for w in range(CLIENTS)]
    for thread in clients:
        thread.start()
    try:
        time.sleep(3)
        pg.stop()
        time.sleep(4)
        pg.start()
        time.sleep(4)
        proxy.cut()
        time.sleep(4)
        proxy.restore()
        time.sleep(4)
    finally:
        stop.set()
        for thread in clients:
            thread.join(120)
    return tally


def _settle(h: ApiHarness) -> int:
    """The service's retry sweep (run by ``hazardeye serve`` every minute) until nothing is left failed;
    how many analyses it ran again."""
    pipeline, retried = PhotoPipeline(h.container), 0
    for _ in range(20):
        again = pipeline.retry_failed()
        if again == 0:
            return retried
        retried += again
    raise AssertionError("failed photos kept failing after the outages")


def _judge(h: ApiHarness, tally: Tally) -> tuple[list[str], list[str]]:
    lost = []
    for equipment, photo_id in tally.acknowledged.items():
        view = h.client.get(f"/api/v1/photos/{photo_id}", headers=h.auth(Role.INSPECTOR))
        original = h.client.get(f"/api/v1/objects/{photo_id}", headers=h.auth(Role.INSPECTOR))
        if view.status_code != 200 or view.json()["status"] != "done" or original.status_code != 200:
            lost.append(f"{equipment}: {view.status_code} {view.text[:120]} / object {original.status_code}")
    with h.container.sessions() as session:
        per_equipment = dict(
            session.execute(
                select(HazardRow.equipment_id, func.count()).group_by(HazardRow.equipment_id)
            ).all()
        )
    duplicated = [f"{eq}: {n} hazards" for eq, n in per_equipment.items() if n != 1]
    missing = [eq for eq in tally.acknowledged if per_equipment.get(eq, 0) == 0]
    return lost + [f"{eq}: no hazard" for eq in missing], duplicated
