"""Workflow benchmark: observation intake rate (SQLite, PostgreSQL) and hazard list-query latency.

    python bench/bench_workflow.py [--observations 2000] [--hazards 200000] [--skip-pg]

Intake: ``ingest_observation`` with de-duplication on (60 cameras × 3 kinds, so most observations append
evidence to an open hazard); baseline = inserting the same observation rows one transaction each with
the same engine (the floor cost of a durable commit), reported as a ratio.
List queries: N hazards bulk-loaded with COPY into a fresh PostgreSQL database, then random filtered,
paginated pages (state + level + area, overdue-first order); baseline = an unfiltered page by id.
PostgreSQL: a fresh database on 127.0.0.1:5432 (user postgres) is created and dropped.
"""

from __future__ import annotations

import argparse
import functools
import io
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, select, text

from workflow.domain.clock import FakeClock
from workflow.domain.grading import RiskLevel
from workflow.domain.lifecycle import HazardState
from workflow.domain.observations import Observation, SourceKind
from workflow.persistence.engine import make_engine, make_session_factory
from workflow.persistence.migrate import upgrade_database
from workflow.persistence.orm import HazardRow, ObservationRow
from workflow.services.context import WorkflowContext
from workflow.services.hazards import ingest_observation, ingest_observations
from workflow.services.queries import HazardFilter, list_hazards

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
KINDS = ("ppe.no_helmet", "ppe.no_vest", "leak.leak")
AREAS = [f"area-{i}" for i in range(20)]


def _observations(n: int, prefix: str) -> list[Observation]:
    rng = random.Random(7)
    out = []
    for i in range(n):
        cam = rng.randrange(60)  # each camera watches one fixed zone
        at = T0 + timedelta(seconds=i)
        keys = (f"snap/{prefix}/{i}.jpg",)
        zone = f"zone-{cam % 12}"
        out.append(
            Observation(
                f"{prefix}-{i}", rng.choice(KINDS), 0.8, zone, SourceKind.CAMERA, f"cam-{cam}", at, keys
            )
        )
    return out


def _rate(fn: Callable[[], None], n: int) -> float:
    start = time.perf_counter()
    fn()
    return n / (time.perf_counter() - start)


def bench_intake(url: str, n: int, label: str, batch: int) -> None:
    """``batch`` = 1: one ``ingest_observation`` per observation; > 1: ``ingest_observations`` batches."""
    upgrade_database(url)
    engine = make_engine(url)
    ctx = WorkflowContext(make_session_factory(engine), FakeClock(T0 + timedelta(days=1)))
    obs = _observations(n, "o")

    def baseline() -> None:
        for o in _observations(n, "b"):
            with ctx.uow() as uow:
                row = ObservationRow(
                    observation_id=o.observation_id,
                    hazard_id=None,
                    kind=o.kind,
                    zone=o.zone,
                    area=o.zone,
                    source_kind="camera",
                    source_id=o.source_id,
                    confidence=0.8,
                    observed_at=o.observed_at,
                    status="recorded",
                )
                uow.session.add(row)
                uow.commit()

    def intake() -> None:
        if batch == 1:
            for o in obs:
                ingest_observation(ctx, o)
        else:
            for i in range(0, n, batch):
                ingest_observations(ctx, obs[i : i + batch])

    base = _rate(baseline, n)
    real = _rate(intake, n)
    with ctx.uow() as uow:
        hazards = len(list(uow.session.scalars(select(HazardRow.id))))
    print(
        f"[{label}] intake, {batch:2d} obs/txn: {real:7.0f} obs/s (de-dup on, {n} obs → {hazards} hazards); "
        f"baseline 1-row txn {base:7.0f} rows/s; ratio {real / base:.2f}"
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
        cur.execute("ANALYZE hazards")
        raw.commit()
    finally:
        raw.close()


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def bench_list(url: str, n: int, queries: int) -> None:
    upgrade_database(url)
    engine = make_engine(url)
    start = time.perf_counter()
    _copy_hazards(engine, n)
    print(f"[postgresql] loaded {n} hazards with COPY in {time.perf_counter() - start:.1f} s")
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


def _pg_intake(url: str, n: int, batch: int) -> None:
    bench_intake(url, n, "postgresql", batch)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--observations", type=int, default=2000)
    ap.add_argument(
        "--hazards", type=int, default=200_000, help="rows for the list-query benchmark (issue: 1M)"
    )
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--batch", type=int, default=20, help="observations per transaction (one camera poll)")
    ap.add_argument("--skip-pg", action="store_true")
    ap.add_argument("--skip-intake", action="store_true")
    args = ap.parse_args()
    for batch in () if args.skip_intake else (1, args.batch):
        with tempfile.TemporaryDirectory() as tmp:
            bench_intake(f"sqlite:///{Path(tmp) / 'bench.db'}", args.observations, "sqlite", batch)
    if not args.skip_pg:
        for batch in () if args.skip_intake else (1, args.batch):
            _with_pg(functools.partial(_pg_intake, n=args.observations, batch=batch))
        _with_pg(lambda url: bench_list(url, args.hazards, args.queries))


if __name__ == "__main__":
    main()
