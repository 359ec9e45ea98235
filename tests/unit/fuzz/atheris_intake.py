"""Coverage-guided fuzzing of the photo intake with atheris (libFuzzer): run as a script.

    python tests/unit/fuzz/atheris_intake.py -atheris_runs=5000 [corpus_dir]

The intake's parsers (JPEG marker walk, PNG chunk walk, EXIF, metadata strip, decoders) are instrumented;
any exception other than ``PhotoRejected`` is a crash, and libFuzzer exits non-zero with the input saved.
"""

from __future__ import annotations

import contextlib
import io
import sys

import atheris

with atheris.instrument_imports():
    from cameras.photos import IntakeLimits, PhotoRejected, intake_photo

from PIL import Image

LIMITS = IntakeLimits(max_bytes=1_000_000, max_pixels=2_000_000, strip_exif=True)


def seed() -> bytes:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 3
    Image.new("RGB", (32, 24), (120, 30, 200)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def one_input(data: bytes) -> None:
    with contextlib.suppress(PhotoRejected):  # the documented refusal; anything else is a crash
        intake_photo(data, source="fuzz", limits=LIMITS)


def main() -> None:
    if not any(arg.startswith("-seed_inputs") for arg in sys.argv):
        one_input(seed())  # the happy path is exercised (and instrumented) before mutation starts
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
