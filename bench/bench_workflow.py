"""Workflow benchmark: observation intake rate (SQLite, PostgreSQL) and hazard list-query latency.

    python bench/bench_workflow.py [--observations 2000] [--batch 50] [--cameras 16] [--hazards 1000000]
                                   [--skip-pg] [--skip-intake] [--skip-list] [--drop-list-db]

Intake, de-duplication on (60 cameras × 3 kinds, so most observations append evidence to an open
hazard), two ways: ``ingest_observation`` one observation per transaction, and ``ingest_observations``
with ``--batch`` observations per transaction (one camera tick). Baselines, measured in the same process
on the same engine: the bare insert of the same observation rows, one row per transaction (the floor
cost of a durable commit) and ``--batch`` rows per transaction (executemany + commit); each intake rate is
reported as a ratio against the baseline with the same rows per transaction.
Camera intake as the service runs it: ``--cameras`` threads each submitting frames of three observations,
through ``GroupIntake`` (group commit across concurrent frames) against the same threads calling
``ingest_observations`` per frame (one transaction per frame) as the in-process baseline.
List queries: N hazards in a dedicated PostgreSQL database (``hazardeye_bench_list_<N>``), filled with
COPY once and reused by later runs (``--drop-list-db`` drops it at the end), then random filtered,
paginated pages (state + level + area, overdue-first order); baseline = an unfiltered page by fix date.
Intake databases on PostgreSQL are fresh ones, created and dropped per measurement.
"""

from __future__ import annotations

import argparse
import functools
import io
import random
import secrets
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, insert, select, text

from workflow.domain.clock import FakeClock
from workflow.domain.grading import RiskLevel
from workflow.domain.lifecycle import HazardState
from workflow.domain.observations import Observation, SourceKind
from workflow.persistence.engine import make_engine, make_session_factory
from workflow.persistence.migrate import upgrade_database
from workflow.persistence.orm import HazardRow, ObservationRow
from workflow.services.context import WorkflowContext
from workflow.services.group_intake import GroupIntake
from workflow.services.hazards import ingest_observation, ingest_observations
from workflow.services.queries import HazardFilter, list_hazards

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
KINDS = ("ppe.no_helmet", "ppe.no_vest", "leak.leak")
AREAS = [f"area-{i}" for i in range(20)]


def _observations(n: int, prefix: str, start: datetime = T0) -> list[Observation]:
    rng = random.Random(7)
    out = []
    for i in range(n):
        cam = rng.randrange(60)  # each camera watches one fixed zone
        at = start + timedelta(seconds=i)
        keys = (f"snap/{prefix}/{i}.jpg",)
        zone = f"zone-{cam % 12}"
        out.append(
            Observation(
                f"{prefix}-{i}", rng.choice(KINDS), 0.8, zone, SourceKind.CAMERA, f"cam-{cam}", at, keys
            )
        )
    return out


def _rate(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    fn()
    return n / (time.perf_counter() - start)


def _bare_rows(obs: list[Observation]) -> list[dict[str, object]]:
    return [
        {
            "observation_id": o.observation_id,
            "hazard_id": None,
            "kind": o.kind,
            "zone": o.zone,
            "area": o.zone,
            "source_kind": "camera",
            "source_id": o.source_id,
            "confidence": 0.8,
            "observed_at": o.observed_at,
            "status": "recorded",
        }
        for o in obs
    ]


def _ingest(ctx: WorkflowContext, obs: list[Observation], per_txn: int) -> None:
    if per_txn == 1:
        for o in obs:
            ingest_observation(ctx, o)
    else:
        for i in range(0, len(obs), per_txn):
            ingest_observations(ctx, obs[i : i + per_txn])


def bench_intake(url: str, n: int, label: str, batch: int) -> None:
    """Both intake modes on one database: 1 observation per transaction, then ``batch`` per transaction."""
    upgrade_database(url)
    engine = make_engine(url)
    ctx = WorkflowContext(make_session_factory(engine), FakeClock(T0 + timedelta(days=1)))

    def bare(rows: list[dict[str, object]], per_txn: int) -> None:
        for i in range(0, len(rows), per_txn):
            with engine.begin() as conn:
                conn.execute(insert(ObservationRow), rows[i : i + per_txn])

    def hazards() -> int:
        with ctx.uow() as uow:
            return int(uow.session.scalar(select(func.count()).select_from(HazardRow)) or 0)

    for per_txn in (1, batch):
        base_rows = _bare_rows(_observations(n, f"b{per_txn}"))
        # The second mode starts past the de-dup window, so it opens its own hazards like the first did.
        obs = _observations(n, f"o{per_txn}", T0 + (timedelta(hours=12) if per_txn > 1 else timedelta(0)))
        before = hazards()
        base = _rate(functools.partial(bare, base_rows, per_txn), n)
        real = _rate(functools.partial(_ingest, ctx, obs, per_txn), n)
        mode = "ingest_observation " if per_txn == 1 else "ingest_observations"
        print(
            f"[{label:10s}] {mode} {per_txn:3d} obs/txn: {real:7.0f} obs/s (de-dup on, {n} obs → "
            f"{hazards() - before} new hazards); bare insert {per_txn:3d} rows/txn {base:7.0f} rows/s; "
            f"ratio {real / base:.2f}",
            flush=True,
        )
    engine.dispose()


def bench_camera_intake(url: str, n: int, label: str, cameras: int) -> None:
    """``cameras`` threads, frames of three observations: per-frame transactions vs group commit."""
    upgrade_database(url)
    engine = make_engine(url, pool_size=cameras + 2)
    ctx = WorkflowContext(make_session_factory(engine), FakeClock(T0 + timedelta(days=2)))
    frames_per_camera = max(1, n // (3 * cameras))

    def frames(prefix: str, start: datetime) -> list[list[list[Observation]]]:
        return [
            [
                [
                    Observation(
                        f"{prefix}-{cam}-{f}-{kind}",
                        kind,
                        0.8,
                        f"zone-{cam % 12}",
                        SourceKind.CAMERA,
                        f"cam-{cam}",
                        start + timedelta(seconds=f),
                        (f"snap/{prefix}/{cam}/{f}.jpg",),
                    )
                    for kind in KINDS
                ]
                for f in range(frames_per_camera)
            ]
            for cam in range(cameras)
        ]

    def run(
        per_camera: list[list[list[Observation]]], ingest: Callable[[list[Observation]], object]
    ) -> float:
        errors: list[BaseException] = []

        def camera(own: list[list[Observation]]) -> None:
            try:
                for frame in own:
                    ingest(frame)
            except Exception as exc:  # counted and reported: a lost frame is a result too
                errors.append(exc)

        threads = [threading.Thread(target=camera, args=(own,)) for own in per_camera]
        start = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        elapsed = time.perf_counter() - start
        if errors:
            print(f"[{label:10s}]   {len(errors)} camera threads failed, first: {errors[0]!r}", flush=True)
        return 3 * frames_per_camera * cameras / elapsed

    total = 3 * frames_per_camera * cameras
    base = run(frames("pf", T0), lambda frame: ingest_observations(ctx, frame))
    intake = GroupIntake(ctx)
    grouped = run(frames("gc", T0 + timedelta(hours=12)), intake.ingest)
    intake.close()
    print(
        f"[{label:10s}] camera frames, {cameras} threads × 3 obs/frame ({total} obs): group commit "
        f"{grouped:7.0f} obs/s in {intake.transactions} transactions; one transaction per frame "
        f"{base:7.0f} obs/s; ratio {grouped / base:.2f}",
        flush=True,
    )
    engine.dispose()


def t(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _copy_hazards(engine: Engine, n: int) -> None:
    rng = random.Random(11)
    states = [s.value for s in HazardState]
    levels = list(RiskLevel)
    cols = [
        "kind",
        "zone",
        "area",
        "equipment_id",
        "source_kind",
        "source_id",
        "dedup_key",
        "repeat_key",
        "state",
        "likelihood",
        "severity",
        "level",
        "level_rank",
        "escalation_level",
        "repeat_flag",
        "discovered_at",
        "notify_by",
        "respond_by",
        "fix_by",
        "last_seen_at",
        "evidence_count",
        "reopen_count",
        "updated_at",
        "version",
    ]
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        with cur.copy(f"COPY hazards ({', '.join(cols)}) FROM STDIN") as copy:
            buf = io.StringIO()
            for i in range(n):
                lv = rng.choice(levels)
                at = T0 - timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
                fix = at + timedelta(hours=rng.choice((24, 72, 168, 720)))
                kind, area = rng.choice(KINDS), rng.choice(AREAS)
                row = (
                    kind,
                    f"z{i % 50}",
                    area,
                    "\\N",
                    "camera",
                    f"cam-{i % 500}",
                    f"{kind}|z|cam-{i}",
                    f"{kind}|area:{area}",
                    rng.choice(states),
                    "3",
                    "4",
                    lv.value,
                    str(lv.rank),
                    "0",
                    "f",
                    t(at),
                    t(at),
                    t(at),
                    t(fix),
                    t(at),
                    "1",
                    "0",
                    t(at),
                    "1",
                )
                buf.write("\t".join(row) + "\n")
                if i % 20000 == 19999:
                    copy.write(buf.getvalue())
                    buf = io.StringIO()
            copy.write(buf.getvalue())
        raw.commit()
    finally:
        raw.close()
    # A table in steady state has been vacuumed (visibility map set, statistics current), as autovacuum does.
    vacuum = create_engine(engine.url, isolation_level="AUTOCOMMIT")
    with vacuum.connect() as conn:
        conn.execute(text("VACUUM ANALYZE hazards"))
    vacuum.dispose()


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def _ensure_list_db(n: int) -> str:
    """The dedicated list-query database with exactly ``n`` hazards: reused when present, else filled."""
    name = f"hazardeye_bench_list_{n}"
    url = f"{PG_SERVER}/{name}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists:
            probe = create_engine(url)
            try:
                with probe.connect() as conn:
                    have = conn.scalar(text("SELECT count(*) FROM hazards"))
            finally:
                probe.dispose()
            if have == n:
                print(f"[postgresql] reusing {name} ({n} hazards)", flush=True)
                return url
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    upgrade_database(url)
    engine = make_engine(url)
    start = time.perf_counter()
    _copy_hazards(engine, n)
    print(f"[postgresql] loaded {n} hazards with COPY in {time.perf_counter() - start:.1f} s", flush=True)
    engine.dispose()
    return url


def _drop_db(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def bench_list(url: str, n: int, queries: int) -> None:
    engine = make_engine(url)
    ctx = WorkflowContext(make_session_factory(engine), FakeClock(T0))
    rng = random.Random(3)
    open_states = (HazardState.REGISTERED, HazardState.DISPATCHED, HazardState.IN_RECTIFICATION)

    def timed(fn: Callable[[], object]) -> float:
        s = time.perf_counter()
        fn()
        return (time.perf_counter() - s) * 1000

    def run(flt_fn: Callable[[], HazardFilter], with_total: bool, offset_max: int) -> list[float]:
        return [
            timed(
                lambda: list_hazards(
                    ctx, flt_fn(), offset=rng.randrange(0, offset_max + 1), limit=50, with_total=with_total
                )
            )
            for _ in range(queries)
        ]

    base = run(lambda: HazardFilter(), False, 0)

    def filtered() -> HazardFilter:
        return HazardFilter(
            states=open_states,
            levels=(rng.choice(list(RiskLevel)),),
            area=rng.choice(AREAS),
        )

    page = run(filtered, False, 200)
    with_total = run(filtered, True, 200)
    overdue = run(lambda: HazardFilter(overdue_only=True, area=rng.choice(AREAS)), False, 0)
    b95 = _p(base, 95)
    for label, lat in (
        ("filtered page", page),
        ("filtered page + total count", with_total),
        ("overdue-first page", overdue),
    ):
        print(
            f"[postgresql] {label:28s} p50 {_p(lat, 50):6.1f} ms  p95 {_p(lat, 95):6.1f} ms "
            f"(baseline unfiltered page p95 {b95:.1f} ms; ratio {_p(lat, 95) / b95:.1f}) over {n} hazards"
        )
    engine.dispose()


def _with_pg(fn: Callable[[str], None]) -> None:
    name = f"hazardeye_bench_{secrets.token_hex(4)}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        fn(f"{PG_SERVER}/{name}")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--observations", type=int, default=2000)
    ap.add_argument("--hazards", type=int, default=1_000_000, help="rows for the list-query benchmark")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--batch", type=int, default=50, help="observations per transaction (one camera tick)")
    ap.add_argument("--cameras", type=int, default=16, help="concurrent camera threads (camera intake)")
    ap.add_argument("--skip-pg", action="store_true")
    ap.add_argument("--skip-intake", action="store_true")
    ap.add_argument("--skip-list", action="store_true")
    ap.add_argument("--drop-list-db", action="store_true", help="drop the list-query database at the end")
    args = ap.parse_args()
    if not args.skip_intake:
        with tempfile.TemporaryDirectory() as tmp:
            bench_intake(f"sqlite:///{Path(tmp) / 'bench.db'}", args.observations, "sqlite", args.batch)
            sqlite_cams = f"sqlite:///{Path(tmp) / 'cameras.db'}"
            bench_camera_intake(sqlite_cams, args.observations, "sqlite", args.cameras)
        if not args.skip_pg:
            _with_pg(lambda url: bench_intake(url, args.observations, "postgresql", args.batch))
            _with_pg(lambda url: bench_camera_intake(url, args.observations, "postgresql", args.cameras))
    if not args.skip_pg and not args.skip_list:
        url = _ensure_list_db(args.hazards)
        try:
            bench_list(url, args.hazards, args.queries)
        finally:
            if args.drop_list_db:
                _drop_db(url)


if __name__ == "__main__":
    main()
