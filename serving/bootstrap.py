"""Composition root: turns ``Settings`` into a typed ``Container`` of adapters.

This is the only module that picks adapters, and it imports minio / celery / paho only inside the
branch that needs them, so the embedded profile runs without the ``[prod]`` extra. Nothing is built at
import time: entry points call ``bootstrap(settings)`` once and pass the container down.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from serving.bus.port import AlertBus
from serving.objects.port import ObjectStore, ObjectStoreUnavailableError
from serving.pipelines.decodes import DecodeSlots
from serving.pipelines.detection import ImageAnalyzer
from serving.settings import (
    BusSettings,
    DatabaseSettings,
    ObjectStoreSettings,
    S3ObjectStoreSettings,
    Settings,
    TaskSettings,
    VisionSettings,
)
from serving.tasks.port import TaskRegistry, TaskRunner
from vision.onnx_detector import DetectorOptions
from vision.registry import ModelRegistry
from workflow.persistence.engine import make_engine, make_session_factory
from workflow.services.context import WorkflowContext
from workflow.services.group_intake import GroupIntake

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Container:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    objects: ObjectStore
    task_registry: TaskRegistry
    tasks: TaskRunner
    bus: AlertBus
    workflow: WorkflowContext
    intake: GroupIntake  # camera frames' observations, group-committed across concurrent tasks
    models: ModelRegistry
    analyzer: ImageAnalyzer
    camera_analyzer: ImageAnalyzer  # camera frames: the PPE model (and the leak model only when opted in)
    decodes: DecodeSlots  # photo decodes in flight in this process

    def close(self) -> None:
        self.tasks.close()
        self.intake.close()
        self.bus.close()
        self.engine.dispose()


def bootstrap(
    settings: Settings, *, task_registry: TaskRegistry | None = None, start_bus: bool = True
) -> Container:
    registry = task_registry if task_registry is not None else TaskRegistry()
    engine = build_engine(settings.database)
    sessions = make_session_factory(engine)
    models = build_model_registry(settings.vision)
    workflow = WorkflowContext(session_factory=sessions)
    return Container(
        settings=settings,
        engine=engine,
        sessions=sessions,
        objects=build_object_store(settings.objects),
        task_registry=registry,
        tasks=build_task_runner(settings.tasks, registry),
        bus=build_bus(settings.bus, start=start_bus),
        workflow=workflow,
        intake=GroupIntake(workflow),
        models=models,
        analyzer=ImageAnalyzer(
            models,
            (
                settings.vision.ppe_model,
                *((settings.vision.leak_model,) if settings.vision.leak_on_photos else ()),
            ),
            tiled=(settings.vision.ppe_model,),
        ),
        camera_analyzer=ImageAnalyzer(
            models,
            (
                settings.vision.ppe_model,
                *((settings.vision.leak_model,) if settings.vision.leak_on_cameras else ()),
            ),
            tiled=(settings.vision.ppe_model,),
        ),
        decodes=DecodeSlots(settings.photos.decodes_in_flight, settings.photos.decode_wait_s),
    )


def build_model_registry(settings: VisionSettings, *, batch_size: int | None = None) -> ModelRegistry:
    """Scans the models folder (cheap); detectors load on first use. The service and every CLI command
    build theirs here, so the precision, engine and thread settings reach all of them."""
    options = DetectorOptions(
        intra_op_threads=settings.intra_op_threads,
        allow_spinning=settings.allow_spinning,
        engine=settings.engine,
    )
    if batch_size is not None:
        options = dataclasses.replace(options, batch_size=batch_size)
    return ModelRegistry(settings.models_dir, options=options, precision=settings.precision)


def build_engine(settings: DatabaseSettings) -> Engine:
    url = make_url(settings.url)
    # The embedded SQLite file lives under the data folder, which may not exist on the first start.
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.url, echo=settings.echo, pool_size=settings.pool_size)


def build_object_store(settings: ObjectStoreSettings) -> ObjectStore:
    if isinstance(settings, S3ObjectStoreSettings):
        from minio import Minio

        from serving.objects.s3 import S3ObjectStore, bounded_http_client

        client = Minio(
            settings.endpoint,
            access_key=settings.access_key,
            secret_key=settings.secret_key.get_secret_value(),
            secure=settings.secure,
            region=settings.region,
            http_client=bounded_http_client(settings.timeout_s, settings.retries),
        )
        store = S3ObjectStore(client, settings.bucket)
        try:
            store.ensure_bucket()  # created on start; if S3 is down now, the first put or /health makes it
        except ObjectStoreUnavailableError as exc:
            log.warning("object store not ready at start (%s); the bucket is created once it is", exc)
        return store
    from serving.objects.local import LocalObjectStore

    return LocalObjectStore(settings.root)


def build_task_runner(settings: TaskSettings, registry: TaskRegistry) -> TaskRunner:
    if settings.kind == "celery":
        from serving.tasks.celery_runner import CeleryTaskRunner, build_celery_app

        app = build_celery_app(settings, registry)
        return CeleryTaskRunner(app, registry, queue=settings.queue)
    from serving.tasks.inline import InlineTaskRunner

    return InlineTaskRunner(registry, workers=settings.workers)


def build_bus(settings: BusSettings, *, start: bool = True) -> AlertBus:
    if settings.kind == "mqtt":
        from serving.bus.mqtt import MqttBus

        bus = MqttBus(settings)
        if start:
            bus.start(wait_s=5.0)
        return bus
    from serving.bus.local import LocalBus

    return LocalBus()
