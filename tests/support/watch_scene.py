"""A fixed camera's view for watched-region tests: a textured grey scene and a dark puddle to put in it."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np


def textured_view(seed: int = 0, width: int = 480, height: int = 360) -> np.ndarray:
    """Grey levels 60-190 (nothing clips under ±30 % light), coarse shapes plus fine grain."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(60, 190, (30, 40)).astype(np.float32)
    fine = rng.normal(0, 12, (height, width)).astype(np.float32)
    scene = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC) + cv2.GaussianBlur(
        fine, (0, 0), 1.5
    )
    return np.repeat(np.clip(scene, 60, 190)[..., None], 3, axis=2)


def with_puddle(image: np.ndarray, centre: tuple[int, int], radius: int, darken: float = 0.45) -> np.ndarray:
    out = image.astype(np.float32)
    mask = np.zeros(image.shape[:2], np.float32)
    cv2.ellipse(mask, centre, (radius, radius // 2), 0, 0, 360, 1.0, -1)
    out *= 1 - darken * mask[..., None]
    return np.clip(out, 0, 255).astype(np.uint8)


def write_watch_video(path: Path, seconds: int, leak_from_s: float | None, fps: int = 2) -> Path:
    """H.264 of the view with sensor noise and a frame counter at the bottom left; from ``leak_from_s`` a
    puddle sits at (260, 235)."""
    rng = np.random.default_rng(7)
    view = textured_view()
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 480, 360, "yuv420p"
        stream.options = {
            "preset": "ultrafast",
            "bf": "0",
            "crf": "23",
            "g": str(2 * fps),
        }  # a keyframe / 2 s
        for i in range(seconds * fps):
            frame = np.clip(view + rng.normal(0, 2.5, view.shape), 0, 255).astype(np.uint8)
            if leak_from_s is not None and i / fps >= leak_from_s:
                frame = with_puddle(frame, (260, 235), 40)
            # A frame counter far from the regions: a camera's clock overlay, so no frame reads as frozen.
            cv2.putText(frame, f"{i:05d}", (8, 350), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
