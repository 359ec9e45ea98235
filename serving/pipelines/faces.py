"""Face blurring for stored images outside the photo and camera pipelines (after photos, manual reports,
the before/after comparison): in a zone that blurs faces, the stored original is sealed with its blurred
copy, and a derivative is blurred before it is stored."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from serving.bootstrap import Container
from serving.pipelines.photos import store_object
from vision.images import decode_scaled, encode_jpeg
from vision.privacy import blur_regions
from workflow.services.seals import seal_object

Image = npt.NDArray[np.uint8]


def blurred(container: Container, image: Image) -> Image:
    """``image`` with the faces the PPE model finds in it blurred."""
    analysis = container.analyzer.analyze(image)
    faces = container.analyzer.faces(image, analysis, container.settings.privacy.detection_floor)
    return blur_regions(image, faces)


def seal_stored_photo(container: Container, key: str, data: bytes, zone: str) -> None:
    """Seal the stored photo ``key`` (bytes ``data``) with its face-blurred copy when ``zone`` blurs."""
    if not container.settings.privacy.blurs(zone):
        return
    settings = container.settings.photos
    with container.decodes.hold(f"photo {key[:12]}"):
        decoded = decode_scaled(
            data, source=key[:12], max_pixels=settings.max_pixels, max_side=settings.analysis_max_side
        )
    display_key = store_object(container, encode_jpeg(blurred(container, decoded.image)), "image/jpeg")
    seal_object(container.workflow, key, zone, display_key)
