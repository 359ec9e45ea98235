"""Service settings: one pydantic-settings object, built once per entry point and passed down.

Environment variables use the prefix ``HAZARDEYE_`` and ``__`` for nesting, e.g.
``HAZARDEYE_DATABASE__URL=postgresql+psycopg://...`` or ``HAZARDEYE_OBJECTS__KIND=s3``.
Backends are discriminated unions; ``serving.bootstrap`` is the only place that turns them into adapters.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


EMBEDDED_HOME = Path("var")  # relative to where the service starts


class DatabaseSettings(_Section):
    url: str = "sqlite:///var/hazardeye.db"
    echo: bool = False
    pool_size: int = Field(default=5, ge=1)


class LocalObjectStoreSettings(_Section):
    kind: Literal["local"] = "local"
    root: Path = Path("var/objects")


class S3ObjectStoreSettings(_Section):
    kind: Literal["s3"]
    endpoint: str = "127.0.0.1:9000"
    access_key: str
    secret_key: SecretStr
    bucket: str = "hazardeye"
    secure: bool = False
    region: str | None = None
    # The SDK's default waits 5 minutes per read and retries 5 times: an S3 that accepts and never answers
    # would hold an upload for half an hour. Bounded, the request fails over to 503 / the retry sweep.
    timeout_s: float = Field(default=20.0, gt=0, le=600)
    retries: int = Field(default=2, ge=0, le=10)


ObjectStoreSettings = Annotated[LocalObjectStoreSettings | S3ObjectStoreSettings, Field(discriminator="kind")]


class InlineTaskSettings(_Section):
    kind: Literal["inline"] = "inline"
    workers: int = Field(default=2, ge=1, le=64)


class CeleryTaskSettings(_Section):
    kind: Literal["celery"]
    broker_url: str = "redis://127.0.0.1:6379/0"
    result_backend: str | None = "redis://127.0.0.1:6379/1"
    max_retries: int = Field(default=5, ge=0)
    queue: str = "hazardeye"


TaskSettings = Annotated[InlineTaskSettings | CeleryTaskSettings, Field(discriminator="kind")]


class LogBusSettings(_Section):
    """Embedded default: alerts go to the log and the web UI's live feed; sensors post over HTTP."""

    kind: Literal["log"] = "log"


class MqttBusSettings(_Section):
    kind: Literal["mqtt"]
    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    topic_prefix: str = "hazardeye"
    client_id_prefix: str = "hazardeye"
    qos: Literal[0, 1, 2] = 1
    keepalive_s: int = Field(default=30, ge=5)


BusSettings = Annotated[LogBusSettings | MqttBusSettings, Field(discriminator="kind")]


class PpeRequirement(_Section):
    """The PPE a zone demands. A vest only counts with a model that detects vests (or their absence)."""

    helmet: bool = True
    vest: bool = False


class VisionSettings(_Section):
    models_dir: Path = REPO_MODELS_DIR
    ppe_model: str = "ppe"
    leak_model: str = "leak"
    # The leak model is a synthetic-data prototype that sees stains on clean floors and countertops:
    # camera frames are watched for leaks by watched regions instead, and get it only when this is true.
    leak_on_cameras: bool = False
    # ... and uploaded photos get it only when this is true (its thresholds keep it quiet on 1,004 clean
    # real photos, which leaves it finding almost nothing real either: see its card).
    leak_on_photos: bool = False
    max_image_pixels: int = Field(default=50_000_000, ge=1)
    intra_op_threads: int | None = Field(default=None, ge=1)
    # Busy-waiting onnxruntime threads: about 1.3x the inference rate on cores nobody else uses (a
    # dedicated `hazardeye worker` node), about 0.45x when other processes compete for them. Off by default.
    allow_spinning: bool = False
    # Which file of a model version is served: "auto" takes the INT8 variant (gated within 1 AP50 point
    # per class of FP32) on CPUs with VNNI / AMX, INT8's fast and exact path, and FP32 elsewhere; "fp32" /
    # "int8" pin one (int8 pinned on a version without a variant serves FP32 and logs it once).
    precision: Literal["auto", "fp32", "int8"] = "auto"
    # The CPU inference engine: onnxruntime measured faster than OpenVINO on this project's CPU for both
    # precisions (README "Inference speed"); "openvino" needs the [openvino] extra.
    engine: Literal["onnxruntime", "openvino"] = "onnxruntime"
    # Per-zone PPE, e.g. HAZARDEYE_VISION__PPE_ZONES='{"control-room": {"helmet": false}}'; other zones:
    # ppe_default.
    ppe_default: PpeRequirement = PpeRequirement()
    ppe_zones: dict[Annotated[str, Field(min_length=1, max_length=64)], PpeRequirement] = {}
    # The words on annotated images (evidence photos and camera frames): "zh" draws 未戴安全帽 with the
    # shipped CJK font, "en" draws "No helmet".
    label_language: Literal["en", "zh"] = "en"

    def ppe_for(self, zone: str) -> PpeRequirement:
        return self.ppe_zones.get(zone, self.ppe_default)


class PhotoSettings(_Section):
    max_bytes: int = Field(default=25 * 1024 * 1024, ge=1)
    max_pixels: int = Field(default=50_000_000, ge=1)
    strip_exif: bool = True
    # An acknowledged photo whose analysis failed (an outage) is analysed again by the sweep, after this
    # quiet period, until it has had this many attempts; then it stays failed, visible in GET /photos/{id}.
    retry_after_s: float = Field(default=30.0, ge=0)
    max_attempts: int = Field(default=10, ge=1)
    # A photo still queued after this long lost its task (broker restarted without persistence, worker
    # killed): the sweep dispatches it again. Above any normal queue wait, so a backlog is not doubled.
    stuck_after_s: float = Field(default=600.0, ge=0)
    # The detectors read 416-640 px: photos are analysed from a decode whose longer side is at most this
    # (JPEGs decoded directly at 1/2-1/8 size); the original bytes stay the evidence. 4096 keeps tiling
    # and the before/after matcher fed with detail.
    analysis_max_side: int = Field(default=4096, ge=640, le=16_384)
    # Photo decodes at once in one process (each bounded by analysis_max_side); a request waits this
    # long for one, then gets 503 + Retry-After.
    decodes_in_flight: int = Field(default=2, ge=1, le=64)
    decode_wait_s: float = Field(default=30.0, ge=0.0, le=600.0)


class CameraSettings(_Section):
    config_file: Path | None = None
    shard_index: int = Field(default=0, ge=0)
    shard_count: int = Field(default=1, ge=1)


class SweepSettings(_Section):
    """Background sweeps of ``hazardeye serve``: escalation, permit expiry, stale sensors."""

    interval_s: float = Field(default=60.0, ge=0.05, le=86_400)
    enabled: bool = True


class MonitorSettings(_Section):
    """Camera monitor knobs beyond the camera file (per-process, in-memory)."""

    # A sensor alert attaches a camera's latest frame only when it is at most this old.
    snapshot_max_age_s: float = Field(default=120.0, gt=0)
    # One permit presence check per zone per this period (each understaffed check raises an alert).
    presence_cooldown_s: float = Field(default=60.0, ge=0)
    # Camera frames no evidence refers to are deleted after this many hours (null: kept forever). At least
    # an hour, far above snapshot_max_age_s, so a frame is never deleted while it can still become evidence.
    frame_retention_h: float | None = Field(default=168.0, ge=1.0)
    # A camera finding opens or feeds a hazard only when seen in confirm_k of the camera's last
    # confirm_n snapshots (a one-frame detector glitch is no hazard); 1 of 1 turns this off.
    confirm_k: int = Field(default=2, ge=1)
    confirm_n: int = Field(default=3, ge=1, le=50)
    # A picture that stays black or frozen this long while the stream is up is a stored alert
    # (camera.black / camera.frozen); a static scene read as frozen for a few frames is not.
    picture_alert_after_s: float = Field(default=120.0, gt=0)
    # A watched region (cameras.yaml ``watch``) that stays changed this long is a suspected leak.
    watch_persist_s: float = Field(default=120.0, gt=0)

    @model_validator(mode="after")
    def _k_within_n(self) -> MonitorSettings:
        if self.confirm_k > self.confirm_n:
            raise ValueError(f"confirm_k ({self.confirm_k}) must not exceed confirm_n ({self.confirm_n})")
        return self


RoleName = Literal["admin", "safety_engineer", "reviewer", "rectifier", "inspector"]


class PrivacySettings(_Section):
    """Face blurring of the images the UI shows (annotated photos and frames, crops, display copies).

    The stored original stays the sealed evidence: served only to ``original_viewers`` (each view is
    audited); everyone else gets its blurred copy. Per zone, e.g.
    HAZARDEYE_PRIVACY__ZONES='{"canteen": true, "yard": false}'; other zones: blur_faces.
    """

    blur_faces: bool = False
    zones: dict[Annotated[str, Field(min_length=1, max_length=64)], bool] = {}
    # The PPE model's confidence floor for faces (a second, blur-only pass; bench/bench_face_blur.py).
    detection_floor: float = Field(default=0.05, gt=0.0, lt=1.0)
    original_viewers: tuple[RoleName, ...] = ("admin", "safety_engineer")

    def blurs(self, zone: str) -> bool:
        return self.zones.get(zone, self.blur_faces)

    def blurs_any(self, zones: Iterable[str]) -> bool:
        """A camera frame showing several zones is blurred when any of them asks for it."""
        return any(self.blurs(zone) for zone in zones)


class HttpSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # /metrics names routes, models, camera states and queue depth: by default it needs an API key like
    # the API (Prometheus sends one with `authorization: {credentials: KEY}`); true opens it to anyone
    # who can reach the port.
    metrics_public: bool = False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HAZARDEYE_",
        env_nested_delimiter="__",
        env_file=None,
        env_parse_none_str="null",  # e.g. HAZARDEYE_MONITOR__FRAME_RETENTION_H=null: keep frames forever
        extra="forbid",
        frozen=True,
    )

    # The embedded profile's home: its SQLite file and object folder live here unless set on their own.
    data_dir: Path = EMBEDDED_HOME
    # The plant's time zone (IANA name, e.g. Asia/Shanghai): the ledger shows local times with their offset.
    plant_timezone: str = "UTC"
    database: DatabaseSettings = DatabaseSettings()
    objects: ObjectStoreSettings = LocalObjectStoreSettings()
    tasks: TaskSettings = InlineTaskSettings()
    bus: BusSettings = LogBusSettings()
    vision: VisionSettings = VisionSettings()
    photos: PhotoSettings = PhotoSettings()
    cameras: CameraSettings = CameraSettings()
    http: HttpSettings = HttpSettings()
    sweeps: SweepSettings = SweepSettings()
    monitor: MonitorSettings = MonitorSettings()
    privacy: PrivacySettings = PrivacySettings()

    @field_validator("plant_timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r} (an IANA name such as Asia/Shanghai)") from None
        return name

    @property
    def plant_zone(self) -> ZoneInfo:
        return ZoneInfo(self.plant_timezone)

    @model_validator(mode="before")
    @classmethod
    def _embedded_paths_under_data_dir(cls, data: Any) -> Any:
        # HAZARDEYE_DATA_DIR=/srv/hz moves the database and the objects too, unless they are set.
        if not isinstance(data, dict):
            return data
        home = Path(data.get("data_dir") or EMBEDDED_HOME)
        database = data.get("database")
        if database is None or (isinstance(database, dict) and "url" not in database):
            data = {**data, "database": {**(database or {}), "url": f"sqlite:///{home / 'hazardeye.db'}"}}
        objects = data.get("objects")
        if objects is None or (isinstance(objects, dict) and objects.get("kind", "local") == "local"):
            folder = {"kind": "local", "root": str(home / "objects")}
            data = {**data, "objects": folder | (objects or {})}  # HAZARDEYE_OBJECTS__ROOT alone: local
        return data


def load_settings(env_file: Path | None = None) -> Settings:
    """Build the settings for one entry point (environment first, then an optional env file)."""
    if env_file is not None:
        return Settings(_env_file=env_file)
    return Settings()
