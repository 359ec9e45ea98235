"""Bounded fuzzing of what arrives from outside: photo bytes, image bytes, MQTT sensor messages, readings.

Each target may refuse its input only with its documented error (the one the API turns into a 4xx or
the bus logs and drops); anything else escaping is a crash. Inputs are mutations of valid files
(flipped, inserted, deleted bytes, truncation) and free-form bytes; hypothesis keeps the failing example.
"""

from __future__ import annotations

import io
import json
import math
import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from cameras.jpeg_strip import JpegStructureError, strip_jpeg_metadata
from cameras.photos import IntakeLimits, PhotoRejected, intake_photo
from serving.bus import PayloadError, parse_sensor_message
from vision.images import ImageError, decode_image, decode_scaled
from workflow.domain.clock import FakeClock
from workflow.domain.errors import DomainError
from workflow.domain.roles import Actor, Role
from workflow.domain.sensors import SensorDefinition, tiers_with_hysteresis
from workflow.persistence.engine import make_engine, make_session_factory
from workflow.persistence.migrate import upgrade_database
from workflow.services import sensors as sn
from workflow.services.context import WorkflowContext
from workflow.services.users import create_user

BOUNDED = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LIMITS = IntakeLimits(max_bytes=2_000_000, max_pixels=4_000_000, strip_exif=True)


def _seed_files() -> list[bytes]:
    rng = np.random.default_rng(1)
    picture = Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "Maker"
    files = []
    for fmt, extra in (("JPEG", {"exif": exif, "quality": 80}), ("JPEG", {"progressive": True}), ("PNG", {})):
        out = io.BytesIO()
        picture.save(out, fmt, **extra)
        files.append(out.getvalue())
    return files


SEEDS = _seed_files()


@st.composite
def mutated_files(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(("flip", "insert", "delete", "truncate", "splice")))
        at = draw(st.integers(0, len(data) - 1)) if data else 0
        if op == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete" and data:
            del data[at : at + draw(st.integers(1, 64))]
        elif op == "truncate":
            del data[at:]
        elif op == "splice":  # a marker-like run: the structures the parsers walk
            data[at:at] = bytes([0xFF, draw(st.integers(0xC0, 0xFE))]) + draw(st.binary(max_size=6))
    return bytes(data)


any_file = st.one_of(mutated_files(), st.binary(max_size=2048))


@BOUNDED
@given(any_file)
def test_photo_intake_refuses_only_with_photo_rejected(data: bytes) -> None:
    try:
        photo = intake_photo(data, source="fuzz.jpg", limits=LIMITS)
    except PhotoRejected as exc:
        assert "\n" not in str(exc)  # one line, safe to show
        return
    assert photo.width > 0 and photo.height > 0
    assert photo.stored_bytes[:2] in (b"\xff\xd8", b"\x89P")


@BOUNDED
@given(any_file, st.integers(1, 96))
def test_image_decoders_refuse_only_with_image_error(data: bytes, max_side: int) -> None:
    for decode in (
        lambda: decode_image(data, source="fuzz", max_pixels=LIMITS.max_pixels),
        lambda: decode_scaled(data, source="fuzz", max_pixels=LIMITS.max_pixels, max_side=max_side).image,
    ):
        try:
            image = decode()
        except ImageError:
            continue
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3


@BOUNDED
@given(mutated_files(), st.integers(1, 8))
def test_jpeg_metadata_strip_refuses_only_with_structure_errors(data: bytes, orientation: int) -> None:
    try:
        stripped = strip_jpeg_metadata(data, orientation)
    except JpegStructureError:
        return
    assert stripped.startswith(b"\xff\xd8") and b"Maker" not in stripped[: stripped.find(b"\xff\xda")]


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
payloads = st.one_of(
    st.binary(max_size=200),
    st.builds(
        lambda d: json.dumps(d).encode(),
        st.dictionaries(st.sampled_from(["value", "timestamp", "x"]), json_values, max_size=3),
    ),
    st.builds(
        lambda v, t: json.dumps({"value": v, "timestamp": t}).encode(),
        st.floats(allow_nan=True) | st.integers(-(10**30), 10**30) | st.text(max_size=5),
        st.text(max_size=40) | st.datetimes().map(lambda d: d.isoformat()),
    ),
)
topics = st.one_of(
    st.text(max_size=40),
    st.builds(lambda s: f"hazardeye/sensors/{s}", st.text(max_size=20)),
)


@BOUNDED
@given(topics, payloads)
def test_mqtt_sensor_messages_refuse_only_with_payload_error(topic: str, payload: bytes) -> None:
    try:
        reading = parse_sensor_message(topic, payload)
    except PayloadError:
        return
    assert topic == f"hazardeye/sensors/{reading.sensor_id}"
    assert np.isfinite(reading.value)


@dataclass
class SensorRun:
    ctx: WorkflowContext
    clock: FakeClock
    last_accepted: datetime | None = None


@pytest.fixture(scope="module")
def sensor_run(tmp_path_factory: pytest.TempPathFactory) -> SensorRun:
    db = tmp_path_factory.mktemp("fuzz") / "wf.db"
    upgrade_database(f"sqlite:///{db}")
    clock = FakeClock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    ctx = WorkflowContext(make_session_factory(make_engine(f"sqlite:///{db}")), clock)
    view, _ = create_user(ctx, "eng", Role.SAFETY_ENGINEER)
    definition = SensorDefinition("co-1", "z1", "ppm", tiers_with_hysteresis((50.0, 200.0), 5.0))
    sn.define_sensor(ctx, definition, Actor(view.id, view.name, view.role))
    return SensorRun(ctx, clock)


@BOUNDED
@given(
    st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**20), 10**20).map(float),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)),
)
def test_sensor_readings_into_sqlite_are_refused_exactly_when_invalid(
    sensor_run: SensorRun, value: float, at: datetime
) -> None:
    run = sensor_run
    run.clock.advance(timedelta(seconds=1))
    now = run.clock.now()
    # The rules, written out: finite, at least the sensor's minimum (0), not beyond 120 s in the future,
    # not older than the last accepted reading.
    invalid = not math.isfinite(value) or value < 0 or at > now + timedelta(seconds=120)
    older = run.last_accepted is not None and at < run.last_accepted
    try:
        sn.ingest_reading(run.ctx, "co-1", value, at)
    except DomainError as exc:
        assert invalid or older, f"a valid reading ({value} at {at}) was refused: {exc}"
        return
    assert not invalid and not older, f"an invalid reading ({value} at {at}) was accepted"
    run.last_accepted = at


def test_the_seed_files_are_accepted_so_mutations_start_from_valid_input() -> None:
    for data in SEEDS:
        assert intake_photo(data, source="seed", limits=LIMITS).width in (48, 64)


def test_coverage_guided_fuzzing_of_the_intake_finds_no_crash(tmp_path: Path) -> None:
    """atheris (libFuzzer) mutates from a valid JPEG for a bounded number of runs; exit 0 = no crash."""
    pytest.importorskip("atheris", reason="atheris has wheels for x86-64 Linux only (dev extra)")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "seed.jpg").write_bytes(SEEDS[0])
    script = Path(__file__).with_name("atheris_intake.py")
    root = Path(__file__).resolve().parents[3]
    # libFuzzer's memory limit reads the peak RSS, which Linux carries across fork + exec: the child starts at
    # this (large, long-running) pytest process's peak. Allow 1 GB above it.
    inherited_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    options = ["-atheris_runs=20000", "-max_len=8192", f"-rss_limit_mb={inherited_mb + 1024}",
               f"-artifact_prefix={tmp_path}/"]  # fmt: skip
    run = subprocess.run(
        [sys.executable, str(script), *options, str(corpus)], cwd=root, capture_output=True, text=True,
        timeout=240, env={**os.environ, "PYTHONPATH": str(root)},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Done 20000 in" in run.stderr
