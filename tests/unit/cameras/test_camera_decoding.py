"""Access-unit assembly and the snapshot decoder, on a generated file (no server needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cameras.config import Transport
from cameras.stream import (
    AccessUnit,
    ErrorKind,
    FrameDecoder,
    StreamError,
    access_units,
    first_keyframe,
    open_container,
)
from tests.support.video import read_pattern, write_pattern_video


@pytest.fixture(scope="module")
def units(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[AccessUnit], FrameDecoder]:
    path = write_pattern_video(tmp_path_factory.mktemp("v") / "p.mp4", seconds=3, fps=10, gop=10)
    container, stream = open_container(str(path), transport=Transport.TCP, open_timeout_s=5, read_timeout_s=5)
    try:
        return list(access_units(container, stream)), FrameDecoder(stream)
    finally:
        container.close()


def test_units_are_whole_pictures_with_keyframes_every_gop(
    units: tuple[list[AccessUnit], FrameDecoder],
) -> None:
    found, _ = units
    assert len(found) == 30
    assert [i for i, unit in enumerate(found) if unit.keyframe] == [0, 10, 20]


def test_decoder_returns_the_last_picture_and_resets_between_snapshots(
    units: tuple[list[AccessUnit], FrameDecoder],
) -> None:
    found, decoder = units
    assert read_pattern(decoder.decode_last(found[10:11]).image) == 10
    assert read_pattern(decoder.decode_last(found[20:27]).image) == 26
    # Going back to an earlier GOP works: no reference pictures leak from the previous call.
    frame = decoder.decode_last(found[0:4])
    assert read_pattern(frame.image) == 3 and not frame.decode_error
    assert frame.pts_s == pytest.approx(0.3)
    assert not frame.image.flags.writeable


def test_corrupted_pictures_are_flagged_or_refused(units: tuple[list[AccessUnit], FrameDecoder]) -> None:
    found, decoder = units
    key = found[10]
    half = len(key.data) // 2
    truncated = AccessUnit(key.data[:half], key.pts, True, key.received_at)
    scrambled = AccessUnit(key.data[:half] + bytes(b ^ 0x5A for b in key.data[half:]), key.pts, True, 0.0)
    for damaged in (truncated, scrambled):
        # Either the decoder gives up, or it conceals the damage and the frame is marked as such;
        # what must never happen is a clean-looking frame.
        try:
            assert decoder.decode_last([damaged]).decode_error
        except StreamError as exc:
            assert exc.kind is ErrorKind.DECODE
    noise = np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    with pytest.raises(StreamError) as caught:
        decoder.decode_last([AccessUnit(noise, 0, True, 0.0)])
    assert caught.value.kind is ErrorKind.DECODE
    lost = AccessUnit(key.data, key.pts, True, key.received_at, corrupt=True)
    assert decoder.decode_last([lost]).decode_error
    assert not decoder.decode_last([key]).decode_error  # and it recovers on the next clean keyframe


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StreamError):
        open_container(
            str(tmp_path / "none.mp4"), transport=Transport.TCP, open_timeout_s=1, read_timeout_s=1
        )


def test_first_keyframe_skips_a_fragment_and_uses_the_next_keyframe(
    units: tuple[list[AccessUnit], FrameDecoder],
) -> None:
    found, decoder = units
    key = found[0]
    fragment = AccessUnit(key.data[-200:], key.pts, True, 0.0)  # joined in the middle of a keyframe
    frame = first_keyframe(iter([fragment, *found[1:]]), decoder, url="rtsp://x", timeout_s=5)
    assert read_pattern(frame.image) == 10
    with pytest.raises(StreamError) as caught:
        first_keyframe(iter([fragment, *found[1:10]]), decoder, url="rtsp://x", timeout_s=5)
    assert caught.value.kind is ErrorKind.DECODE
    with pytest.raises(StreamError) as caught:
        first_keyframe(iter(found[1:10]), decoder, url="rtsp://x", timeout_s=5)
    assert caught.value.kind is ErrorKind.TIMEOUT
