"""Test videos whose every frame says which frame it is: the frame number as 16 coloured blocks.

Red block = bit 1, blue block = bit 0, on a mid-grey background (so no frame is "all black"). The
colours survive H.264 compression with a wide margin, so a decoded snapshot can be read back.
"""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt

BITS = 16
TEST_FPS = 10  # the loopback test video: 10 fps, a keyframe every 10 frames
TEST_GOP = 10
_COLS = 8
_RED_BGR = (0, 0, 230)
_BLUE_BGR = (230, 0, 0)


def _block_geometry(width: int, height: int) -> tuple[int, int, int, int]:
    size = min(width // (_COLS + 1), height // 4)
    x0 = (width - _COLS * size) // 2
    y0 = (height - 2 * size) // 2
    return size, x0, y0, _COLS


def pattern_frame(index: int, width: int = 320, height: int = 240) -> npt.NDArray[np.uint8]:
    """BGR frame encoding ``index`` (mod 2**16)."""
    frame = np.full((height, width, 3), 128, np.uint8)
    size, x0, y0, cols = _block_geometry(width, height)
    for bit in range(BITS):
        row, col = divmod(bit, cols)
        colour = _RED_BGR if (index >> bit) & 1 else _BLUE_BGR
        y, x = y0 + row * size, x0 + col * size
        frame[y + 2 : y + size - 2, x + 2 : x + size - 2] = colour
    return frame


def read_pattern(frame: npt.NDArray[np.uint8]) -> int:
    """The frame number a ``pattern_frame`` carries; raises ValueError when the blocks are not there."""
    height, width = frame.shape[:2]
    size, x0, y0, cols = _block_geometry(width, height)
    value = 0
    for bit in range(BITS):
        row, col = divmod(bit, cols)
        y, x = y0 + row * size + size // 2, x0 + col * size + size // 2
        patch = frame[y - 3 : y + 3, x - 3 : x + 3].reshape(-1, 3).mean(axis=0)
        blue, green, red = (float(v) for v in patch)
        if red > 150 and blue < 80:
            value |= 1 << bit
        elif not (blue > 150 and red < 80) or green > 80:
            raise ValueError(f"block {bit} is neither red nor blue: bgr={patch.round(1).tolist()}")
    return value


def write_pattern_video(
    path: Path, *, seconds: float, fps: int = 10, gop: int = 10, width: int = 320, height: int = 240
) -> Path:
    """An H.264 MP4 (no B-frames, a keyframe every ``gop`` frames) of pattern frames 0..N-1."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.gop_size = gop
        stream.options = {"preset": "ultrafast", "tune": "zerolatency", "bf": "0", "keyint_min": str(gop)}
        for index in range(round(seconds * fps)):
            video_frame = av.VideoFrame.from_ndarray(pattern_frame(index, width, height), format="bgr24")
            for packet in stream.encode(video_frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_photo_video(photo_path: Path, path: Path, seconds: int = 120, fps: int = 10) -> Path:
    """H.264 of one photo; a frame counter in the corner keeps frames from being "frozen"."""
    loaded = cv2.imread(str(photo_path))
    assert loaded is not None
    height, width = loaded.shape[0] // 2 * 2, loaded.shape[1] // 2 * 2  # yuv420p needs even sizes
    photo: npt.NDArray[np.uint8] = np.ascontiguousarray(loaded[:height, :width], dtype=np.uint8)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.gop_size = fps
        stream.options = {"preset": "ultrafast", "bf": "0", "keyint_min": str(fps), "crf": "18"}
        for index in range(seconds * fps):
            frame = photo.copy()
            cv2.putText(
                frame, f"{index:05d}", (8, height - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2
            )
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
