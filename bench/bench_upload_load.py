"""Photo uploads from concurrent clients against a real ``hazardeye serve`` (issue 12), on both profiles.

    python bench/bench_upload_load.py [--clients 8] [--photos 12] [--profile embedded|production|both]

embedded: SQLite, local folder, inline analysis (the answer comes after the detector ran).
production: PostgreSQL (the loopback server), S3 (a private moto_server), Celery on the loopback Redis with
one ``hazardeye worker`` process (the answer is 202 once stored and queued; analysis is timed until every
photo reads ``done``). Each client uploads ``--photos`` distinct 500x375 site photos over HTTP (httpx,
keep-alive). Baseline, in the same run on the same server: one client uploading alone; the ratio is
throughput with N clients / throughput alone. Latency p50/p95/p99 per upload.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "tests" / "fixtures" / "hardhat" / "images" / "004951.jpg"
BIN = Path(sys.executable).parent
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _photos(count: int, salt: int) -> list[bytes]:
    image = cv2.imread(str(PHOTO))
    assert image is not None
    out = []
    for n in range(count):
        stamped = image.copy()
        stamped[:4, :4] = ((salt * 131 + n) % 256, (n * 7) % 256, (salt * 3) % 256)
        out.append(cv2.imencode(".jpg", stamped, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes())
    return out


@contextmanager
def _process(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as sink:
        proc = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextmanager
def _production_env(work: Path) -> Iterator[dict[str, str]]:
    name = f"hz_bench_{secrets.token_hex(4)}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    moto_port = _free_port()
    try:
        with _process([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)], dict(os.environ),
                      work / "moto.log"):  # fmt: skip
            yield {
                "HAZARDEYE_DATABASE__URL": f"{PG_SERVER}/{name}",
                "HAZARDEYE_OBJECTS__KIND": "s3", "HAZARDEYE_OBJECTS__ENDPOINT": f"127.0.0.1:{moto_port}",
                "HAZARDEYE_OBJECTS__ACCESS_KEY": "bench", "HAZARDEYE_OBJECTS__SECRET_KEY": "bench",
                "HAZARDEYE_OBJECTS__BUCKET": "hz-bench", "HAZARDEYE_OBJECTS__REGION": "us-east-1",
                "HAZARDEYE_TASKS__KIND": "celery", "HAZARDEYE_TASKS__QUEUE": name,
                "HAZARDEYE_TASKS__BROKER_URL": "redis://127.0.0.1:6379/12",
                "HAZARDEYE_TASKS__RESULT_BACKEND": "redis://127.0.0.1:6379/12",
            }  # fmt: skip
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _upload_all(base: str, key: str, photos: list[bytes], latencies: list[float], ids: list[str]) -> None:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=120) as client:
        for n, data in enumerate(photos):
            started = time.perf_counter()
            fields = {"zone": "tank-farm", "equipment_id": f"eq-{secrets.token_hex(3)}-{n}"}
            response = client.post(
                "/api/v1/photos", files={"file": ("site.jpg", data, "image/jpeg")}, data=fields
            )
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code not in (200, 201, 202):
                raise RuntimeError(f"upload answered {response.status_code}: {response.text[:200]}")
            ids.append(response.json()["photo_id"])


def _round(base: str, key: str, clients: int, photos: int, salt: int) -> tuple[float, list[float], list[str]]:
    latencies: list[float] = []
    ids: list[str] = []
    batches = [_photos(photos, salt * 100 + c) for c in range(clients)]
    threads = [threading.Thread(target=_upload_all, args=(base, key, b, latencies, ids)) for b in batches]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, ids


def _wait_done(base: str, key: str, ids: list[str], timeout_s: float = 600) -> float:
    started = time.perf_counter()
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        pending = set(ids)
        while pending and time.perf_counter() - started < timeout_s:
            pending = {p for p in pending if client.get(f"/api/v1/photos/{p}").json()["status"] != "done"}
            time.sleep(0.2)
    return time.perf_counter() - started


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench(profile: str, clients: int, photos: int) -> None:
    work = Path(tempfile.mkdtemp(prefix=f"hz-upload-{profile}-"))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("HAZARDEYE_")}
    base_env |= {"HAZARDEYE_DATA_DIR": str(work), "HAZARDEYE_SWEEPS__ENABLED": "false"}
    with _production_env(work) if profile == "production" else _no_env() as extra:
        env = base_env | extra
        hz = str(BIN / "hazardeye")
        subprocess.run([hz, "db", "upgrade"], env=env, check=True, capture_output=True)
        made = subprocess.run([hz, "users", "create", "bench-inspector", "--role", "inspector"],
                              env=env, check=True, capture_output=True, text=True)  # fmt: skip
        key = made.stdout.strip().split()[-1]
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        with (
            _process([hz, "serve", "--port", str(port)], env, work / "serve.log"),
            _process([hz, "worker"], env, work / "worker.log") if profile == "production" else _nothing(),
        ):
            _wait_healthy(base)
            _round(base, key, 1, 2, salt=9)  # warm-up: models loaded, connections pooled
            alone_s, alone_lat, alone_ids = _round(base, key, 1, photos, salt=1)
            many_s, many_lat, many_ids = _round(base, key, clients, photos, salt=2)
            done_s = _wait_done(base, key, alone_ids + many_ids) if profile == "production" else 0.0
    alone_rate, many_rate = photos / alone_s, clients * photos / many_s
    print(f"{profile}: 1 client {alone_rate:.1f} uploads/s (p50 {statistics.median(alone_lat):.0f} ms); "
          f"{clients} clients {many_rate:.1f} uploads/s = {many_rate / alone_rate:.2f}x alone; "
          f"latency p50 {_pct(many_lat, 0.5):.0f} ms, p95 {_pct(many_lat, 0.95):.0f} ms, "
          f"p99 {_pct(many_lat, 0.99):.0f} ms")  # fmt: skip
    if profile == "production":
        print(f"production: all {len(alone_ids) + len(many_ids)} photos analysed by one worker "
              f"{done_s:.1f} s after the last upload was acknowledged")  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)


@contextmanager
def _no_env() -> Iterator[dict[str, str]]:
    yield {}


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


def _wait_healthy(base: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{base} did not become healthy")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--photos", type=int, default=12, help="uploads per client")
    parser.add_argument("--profile", choices=("embedded", "production", "both"), default="both")
    args = parser.parse_args()
    for profile in ("embedded", "production") if args.profile == "both" else (args.profile,):
        bench(profile, args.clients, args.photos)


if __name__ == "__main__":
    main()
