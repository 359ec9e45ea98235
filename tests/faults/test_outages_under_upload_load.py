"""Faults under load (issue 12): PostgreSQL stopped and started, then S3 cut and restored, while inspectors
keep uploading; every acknowledged photo must end stored and analysed, once.

The service is the production profile's storage (a private PostgreSQL, S3 = moto behind a cuttable TCP
proxy) with inline analysis; clients behave like the phone UI: one Idempotency-Key per photo, retried
on 503 and connection errors until acknowledged. After the outages the service's own retry sweep runs
(no restart). Counts are printed: attempted, acknowledged, lost, duplicated (lost and duplicated must be 0).
"""

from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path

import pytest
from minio import Minio

from serving.objects.s3 import S3ObjectStore
from serving.settings import DatabaseSettings, PhotoSettings, S3ObjectStoreSettings
from tests.faults.upload_load import Tally, judge, settle, start_clients
from tests.support.api import api_harness, embedded_settings
from tests.support.private_postgres import private_postgres
from tests.support.tcp_proxy import TcpProxy
from workflow.domain.roles import Role

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_no_acknowledged_upload_is_lost_or_duplicated_across_database_and_s3_outages(
    tmp_path: Path, moto_port: int
) -> None:
    proxy = TcpProxy(moto_port)
    proxy.restore()
    bucket = f"hz-faults-{secrets.token_hex(4)}"
    S3ObjectStore(
        Minio(proxy.endpoint, "test", "test", secure=False, region="us-east-1"), bucket
    ).ensure_bucket()
    objects = S3ObjectStoreSettings(
        kind="s3",
        endpoint=proxy.endpoint,
        access_key="test",
        secret_key="test",
        bucket=bucket,
        region="us-east-1",
    )
    try:
        with private_postgres() as pg:
            database = DatabaseSettings(url=pg.url)
            photos = PhotoSettings(retry_after_s=0.0)
            settings = embedded_settings(tmp_path, database=database, objects=objects, photos=photos)
            with api_harness(settings) as h:
                tally, stop = Tally(), threading.Event()
                clients = start_clients(h, 3, tally, stop)
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
                swept = settle(h)
                lost, duplicated = judge(h, tally)
                print(f"\nfaults (PostgreSQL stop, S3 cut): {tally.summary(lost, duplicated, swept)}")
                assert tally.server_errors == []
                assert lost == [] and duplicated == [], (lost[:5], duplicated[:5])
                assert len(tally.acknowledged) >= 6  # the load really ran through the outages
                audit = h.client.get("/api/v1/audit/verify", headers=h.auth(Role.ADMIN)).json()
                assert audit["ok"], audit
                assert h.client.get("/health").status_code == 200  # recovered without a restart
    finally:
        proxy.cut()
