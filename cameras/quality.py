"""Frame quality: a snapshot that is black, frozen or badly decoded is not evidence of anything.

Frozen means bit-identical to the previous snapshot of the same camera: a live sensor's noise makes
exact repeats practically impossible, while a stuck encoder or a repeated last frame gives exactly
that. Black means a dark, flat image (lens covered, IR failed, signal lost on an analogue encoder).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np
import numpy.typing as npt

BgrFrame = npt.NDArray[np.uint8]


class QualityFlag(StrEnum):
    BLACK = "black"
    FROZEN = "frozen"
    DECODE_ERROR = "decode_error"


@dataclass(frozen=True, slots=True)
class QualityThresholds:
    black_max_mean: float = 12.0  # mean luma of a "black" frame (0-255)
    black_max_p99: float = 24.0  # and no bright detail either (a dark night scene has lights)


@dataclass(frozen=True, slots=True)
class QualityResult:
    flags: frozenset[QualityFlag]
    digest: bytes  # fingerprint of this frame, passed back in to detect the next one as frozen


def frame_digest(frame: BgrFrame) -> bytes:
    return hashlib.blake2b(np.ascontiguousarray(frame).data, digest_size=16).digest()


def is_black(frame: BgrFrame, thresholds: QualityThresholds = QualityThresholds()) -> bool:
    # A small thumbnail keeps this cheap on 4K frames; INTER_AREA averages, so means are preserved.
    small = cv2.resize(frame, (64, 36), interpolation=cv2.INTER_AREA) if frame.shape[1] > 64 else frame
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    return (
        float(gray.mean()) <= thresholds.black_max_mean
        and float(np.percentile(gray, 99)) <= thresholds.black_max_p99
    )


def assess(
    frame: BgrFrame,
    *,
    previous_digest: bytes | None,
    decode_error: bool = False,
    thresholds: QualityThresholds = QualityThresholds(),
) -> QualityResult:
    digest = frame_digest(frame)
    flags: set[QualityFlag] = set()
    if decode_error:
        flags.add(QualityFlag.DECODE_ERROR)
    if previous_digest is not None and digest == previous_digest:
        flags.add(QualityFlag.FROZEN)
    if is_black(frame, thresholds):
        flags.add(QualityFlag.BLACK)
    return QualityResult(frozenset(flags), digest)
