"""Second registration stage: guided NCC patch refinement at full resolution.

The coarse homography comes from keypoints found on a downscaled photo, so its error at input resolution
is the coarse error times the downscale factor (3x for 1920 px photos at 640 px): often over 3 px at the
corners. Here, around a few dozen well-spread coarse inliers, a before-photo patch at full resolution is
compared with the after photo *resampled through the coarse homography* into the before frame: rotation,
scale and perspective are already undone, so only a small residual shift is left to find by zero-mean NCC
(robust to gain/offset, i.e. lighting) with a sub-pixel peak. The refined correspondences are re-fitted
with MAGSAC++ and a least-squares polish. Cost is per patch, not per pixel: a few milliseconds whatever
the photo size.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float64]
Points = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class RefineConfig:
    enabled: bool = True
    radius: int = 16  # template half-size in before pixels (33 x 33 patch)
    search: int = 8  # residual shift searched, before pixels: covers the coarse stage's error
    grid: tuple[int, int] = (8, 6)  # spatial buckets over the before photo, so the fit is not lopsided
    per_cell: int = 4
    min_ncc: float = 0.6  # weaker peaks are texture-less or changed (the removed hazard itself)
    ransac_px: float = 1.0  # at after-photo resolution, scaled up where the after photo is zoomed in
    min_points: int = 12
    passes: int = 2  # second pass re-samples through the refined model with a smaller search


@dataclass(frozen=True, slots=True)
class Refinement:
    homography: Matrix
    points: int  # patches whose NCC peak was accepted
    inliers: int


def refine_homography(
    before_gray: npt.NDArray[np.uint8],
    after_gray: npt.NDArray[np.uint8],
    homography: Matrix,
    seeds: Points,
    config: RefineConfig,
) -> Refinement | None:
    """Refine ``homography`` (before -> after pixels, both full resolution) around ``seeds`` (before px).

    Returns None when too few patches agree; the caller keeps the coarse model then.
    """
    centres, leaders = _spread(seeds, before_gray.shape, config)
    if len(centres) < config.min_points:
        return None
    h = homography
    # Where the after photo is much finer than the before photo (zoomed in, or a bigger sensor), sampling
    # it on the before grid would alias: match against a copy shrunk to about the before resolution.
    scale = _local_scale(h, centres.astype(np.float64))
    target, shrink = after_gray, np.eye(3)
    if scale > 1.4:
        f = 1.0 / scale
        size = (max(1, round(after_gray.shape[1] * f)), max(1, round(after_gray.shape[0] * f)))
        target = np.asarray(cv2.resize(after_gray, size, interpolation=cv2.INTER_AREA), np.uint8)
        fx, fy = size[0] / after_gray.shape[1], size[1] / after_gray.shape[0]
        shrink = np.array([[fx, 0, 0.5 * fx - 0.5], [0, fy, 0.5 * fy - 0.5], [0, 0, 1]], np.float64)
    result: Refinement | None = None
    search = config.search
    for index in range(max(1, config.passes)):
        # The wide first search only has to fix the model to about a pixel: one patch per cell will do;
        # the narrow later passes are cheap and use every patch.
        subset = centres[leaders] if index == 0 and config.passes > 1 and leaders.sum() >= 24 else centres
        matched = _match_patches(target, shrink @ h, subset, config, search, before_gray)
        if matched is None:
            break
        src, dst_small = matched
        dst = (
            cv2.perspectiveTransform(dst_small.reshape(-1, 1, 2).astype(np.float64), np.linalg.inv(shrink))
            .reshape(-1, 2)
            .astype(np.float32)
        )
        if len(src) < config.min_points:
            break
        threshold = config.ransac_px * max(1.0, _local_scale(h, src))
        fitted, mask = cv2.findHomography(
            src, dst, cv2.USAC_MAGSAC, threshold, maxIters=2000, confidence=0.999
        )
        if fitted is None or mask is None:
            break
        keep = mask.ravel().astype(bool)
        if int(keep.sum()) < config.min_points:
            break
        polished, _ = cv2.findHomography(src[keep], dst[keep], 0)
        if polished is not None:
            fitted = polished
        h = np.asarray(fitted, np.float64) / float(fitted[2, 2])
        result = Refinement(h, len(src), int(keep.sum()))
        search = max(2, search // 3)
    return result


def _spread(
    seeds: Points, shape: tuple[int, ...], config: RefineConfig
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.bool_]]:
    """At most ``per_cell`` seeds per grid cell, away from the border (whole patch + search inside).

    Also flags the first seed of each cell, the sparse set for the wide first pass.
    """
    height, width = shape[:2]
    margin = config.radius + config.search + 4
    centres = np.rint(np.asarray(seeds, np.float64).reshape(-1, 2)).astype(np.int32)
    inside = (
        (centres[:, 0] >= margin)
        & (centres[:, 0] < width - margin)
        & (centres[:, 1] >= margin)
        & (centres[:, 1] < height - margin)
    )
    centres = centres[inside]
    # Drop near-duplicates (SIFT finds one blob at several scales): they add no constraint.
    _, first = np.unique(centres // 6, axis=0, return_index=True)
    centres = centres[np.sort(first)]
    cols, rows = config.grid
    cells = ((centres[:, 1] * rows // height) * cols + centres[:, 0] * cols // width).tolist()
    chosen: list[int] = []
    leaders: list[bool] = []
    counts: dict[int, int] = {}
    for index, cell in enumerate(cells):
        count = counts.get(cell, 0)
        if count < config.per_cell:
            counts[cell] = count + 1
            chosen.append(index)
            leaders.append(count == 0)
    return centres[chosen], np.array(leaders, bool)


def _match_patches(
    after_gray: npt.NDArray[np.uint8],
    h: Matrix,
    centres: npt.NDArray[np.int32],
    config: RefineConfig,
    search: int,
    before_gray: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]] | None:
    """NCC-match each before patch inside the after photo resampled (through ``h``) into the before frame."""
    radius = config.radius
    pad = 3  # blur margin, cropped again so stacked patches do not bleed into each other
    half = radius + search + pad
    side = 2 * half + 1
    n = len(centres)
    offsets = np.arange(-half, half + 1, dtype=np.float64)
    gx, gy = np.meshgrid(offsets, offsets)
    # Before-frame sample positions of every window, stacked vertically: (n * side, side).
    xs = (centres[:, 0, None, None] + gx[None]).reshape(n * side, side)
    ys = (centres[:, 1, None, None] + gy[None]).reshape(n * side, side)
    denominator = h[2, 0] * xs + h[2, 1] * ys + h[2, 2]
    if np.any(np.abs(denominator) < 1e-9):
        return None
    map_x = ((h[0, 0] * xs + h[0, 1] * ys + h[0, 2]) / denominator).astype(np.float32)
    map_y = ((h[1, 0] * xs + h[1, 1] * ys + h[1, 2]) / denominator).astype(np.float32)
    after_height, after_width = after_gray.shape[:2]
    inside = (map_x >= 0) & (map_x <= after_width - 1) & (map_y >= 0) & (map_y <= after_height - 1)
    windows = cv2.remap(after_gray, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # Only windows that lie wholly inside the after photo: the rest have no true match to find.
    usable = np.flatnonzero(inside.reshape(n, side, side).all(axis=(1, 2)))
    if len(usable) == 0:
        return None
    windows = windows.reshape(n, side, side)[usable].reshape(-1, side)
    centres = centres[usable]
    n = len(centres)
    soft: npt.NDArray[np.float32] = np.asarray(
        cv2.GaussianBlur(windows.astype(np.float32), (0, 0), 1.0), np.float32
    )
    rows = [before_gray[y - half : y + half + 1, x - half : x + half + 1] for x, y in centres.tolist()]
    templates = np.asarray(cv2.GaussianBlur(np.vstack(rows).astype(np.float32), (0, 0), 1.0), np.float32)
    templates, soft = _equalise_blur(templates, soft)
    lo, hi = pad + search, side - pad - search
    cores = templates.reshape(n, side, side)[:, lo:hi, lo:hi]
    textured = cores.reshape(n, -1).std(axis=1) >= 2.0  # flat patches: NCC would amplify noise

    src: list[tuple[float, float]] = []
    dst: list[tuple[float, float]] = []
    for i in np.flatnonzero(textured).tolist():
        window = soft[i * side + pad : (i + 1) * side - pad, pad : side - pad]
        template = cores[i]
        scores = cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED)
        _, peak, _, (px, py) = cv2.minMaxLoc(scores)
        if peak < config.min_ncc or not (0 < px < scores.shape[1] - 1 and 0 < py < scores.shape[0] - 1):
            continue
        dx = px - search + _vertex(scores[py, px - 1], scores[py, px], scores[py, px + 1])
        dy = py - search + _vertex(scores[py - 1, px], scores[py, px], scores[py + 1, px])
        src.append((float(centres[i, 0]), float(centres[i, 1])))
        dst.append((float(centres[i, 0]) + dx, float(centres[i, 1]) + dy))
    if not src:
        return None
    src_array = np.array(src, np.float64)
    dst_before = np.array(dst, np.float64).reshape(-1, 1, 2)
    dst_after = cv2.perspectiveTransform(dst_before, h).reshape(-1, 2)
    return src_array.astype(np.float32), dst_after.astype(np.float32)


BLUR_STEPS = (0.0, 0.7, 1.2, 1.8, 2.6, 3.6, 5.0)


def _equalise_blur(
    templates: npt.NDArray[np.float32], windows: npt.NDArray[np.float32]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Blur the sharper of the two strips until its detail matches the other's.

    A blurred or zoomed-out re-take, resampled into the before frame, is much softer than the before
    photo; NCC between a sharp and a soft patch has a low, broad peak that texture asymmetry drags off
    the true position. Detail is measured as Laplacian energy relative to intensity variance.
    """
    sharp_t, sharp_w = _detail(templates), _detail(windows)
    if sharp_t >= sharp_w:
        return _blur_to(templates, sharp_w), windows
    return templates, _blur_to(windows, sharp_t)


def _blur_to(strip: npt.NDArray[np.float32], target: float) -> npt.NDArray[np.float32]:
    best, best_gap = strip, abs(np.log(_detail(strip) / target))
    for sigma in BLUR_STEPS[1:]:
        candidate = np.asarray(cv2.GaussianBlur(strip, (0, 0), sigma), np.float32)
        gap = abs(np.log(_detail(candidate) / target))
        if gap >= best_gap:
            break  # detail falls monotonically with sigma: the previous step was the closest
        best, best_gap = candidate, gap
    return best


def _detail(strip: npt.NDArray[np.float32]) -> float:
    laplacian = cv2.Laplacian(strip, cv2.CV_32F)
    return float(np.mean(laplacian * laplacian) / (np.var(strip) + 1e-6)) + 1e-9


def _vertex(left: float, centre: float, right: float) -> float:
    """Sub-pixel offset of a 1-D parabola's peak through three samples."""
    curvature = left - 2.0 * centre + right
    if curvature >= 0:
        return 0.0
    return max(-0.5, min(0.5, 0.5 * float(left - right) / float(curvature)))


def _local_scale(h: Matrix, points: Points | npt.NDArray[np.float32]) -> float:
    """Median linear scale of ``h`` (after px per before px) at ``points``."""
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    w = h[2, 0] * pts[:, 0] + h[2, 1] * pts[:, 1] + h[2, 2]
    x = (h[0, 0] * pts[:, 0] + h[0, 1] * pts[:, 1] + h[0, 2]) / w
    y = (h[1, 0] * pts[:, 0] + h[1, 1] * pts[:, 1] + h[1, 2]) / w
    a = (h[0, 0] - h[2, 0] * x) / w
    b = (h[0, 1] - h[2, 1] * x) / w
    c = (h[1, 0] - h[2, 0] * y) / w
    d = (h[1, 1] - h[2, 1] * y) / w
    return float(np.median(np.sqrt(np.abs(a * d - b * c))))
