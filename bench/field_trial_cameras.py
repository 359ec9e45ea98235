"""Field trial of camera monitoring: a real RTSP stream of held-out scenes through the service's own monitor.

    nice -n 5 python bench/field_trial_cameras.py [--scenes 12] [--scene-s 20] [--interval-s 2] [--tiling off]

The video (H.264, 1280x720, 5 fps) shows one Hard Hat Workers *valid* photo per scene, shrunk into a grey
CCTV frame (people far and small), with sensor noise, a slow drift, and the scene number as coloured blocks
in a corner strip (read back from each inspected frame, so every inspection is assigned to its scene). Half
the scenes show a worker without a helmet (by their labels), half show helmets only. GStreamer's RTSP server
streams it live on loopback; the embedded service (SQLite, inline tasks, the shipped models, temporal
confirmation as configured) polls it. Per scene it prints what the plant would see: snapshots with a
``ppe.no_helmet`` finding, whether a hazard was opened, and people counted against the labels (the people
count includes anything the model boxes in the scene-number strip; findings there are left out). Needs
../shared and GStreamer; prints "skipped" without them.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import av
import cv2
import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
VALID = ROOT.parent / "shared" / "datasets" / "hardhat" / "valid"
W, H, FPS = 1280, 720, 5
STRIP = (320, 80)  # the scene-number strip, bottom left


def _scenes(count: int, seed: int) -> list[tuple[Path, int, int]]:
    """(photo, bare heads, helmets) for ``count`` photos: half with a bare head, half helmets only."""
    bare, helmets = [], []
    for label in sorted((VALID / "labels").glob("*.txt")):
        classes = [int(line.split()[0]) for line in label.read_text().splitlines() if line.strip()]
        image = next((VALID / "images").glob(label.stem + ".*"), None)
        if image is None or not classes:
            continue
        (bare if 0 in classes else helmets).append((image, classes.count(0), classes.count(1)))
    rng = random.Random(seed)
    picked = rng.sample(bare, count // 2) + rng.sample([h for h in helmets if h[2] >= 1], count - count // 2)
    rng.shuffle(picked)
    return picked


def write_video(path: Path, scenes: list[tuple[Path, int, int]], scene_s: float, scale: float) -> None:
    from tests.support.video import pattern_frame

    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.codec_context.gop_size = FPS * 2
        stream.options = {"preset": "veryfast", "crf": "26", "bf": "0"}
        for index, (photo_path, _, _) in enumerate(scenes):
            photo = cv2.imread(str(photo_path))
            assert photo is not None
            ph, pw = photo.shape[:2]
            s = min(W * scale / pw, (H - STRIP[1]) * scale / ph)
            small = cv2.resize(photo, (int(pw * s), int(ph * s)), interpolation=cv2.INTER_AREA)
            strip = pattern_frame(index, *STRIP)
            for f in range(int(scene_s * FPS)):
                frame = np.full((H, W, 3), 95, np.uint8)
                dx = int(40 * f / (scene_s * FPS))  # slow drift: the camera is not a still
                y0, x0 = (H - STRIP[1] - small.shape[0]) // 2, (W - small.shape[1]) // 2 + dx - 20
                frame[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
                frame[H - STRIP[1] :, : STRIP[0]] = strip
                noisy = np.clip(frame + rng.normal(0, 3, frame.shape), 0, 255).astype(np.uint8)
                noisy[H - STRIP[1] :, : STRIP[0]] = strip  # keep the marker clean
                for packet in stream.encode(av.VideoFrame.from_ndarray(noisy, format="bgr24")):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _in_strip(box: tuple[float, float, float, float]) -> bool:
    return box[0] < STRIP[0] and box[3] > H - STRIP[1]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenes", type=int, default=12)
    parser.add_argument("--scene-s", type=float, default=20.0)
    parser.add_argument("--interval-s", type=float, default=2.0)
    parser.add_argument(
        "--scale", type=float, default=0.55, help="photo size in the frame (smaller = farther)"
    )
    parser.add_argument("--tiling", default="off")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--save", type=Path, default=None, help="folder for a few annotated frames")
    args = parser.parse_args()
    from tests.support.rtsp_process import RtspServer, gstreamer_available

    if not VALID.is_dir() or not gstreamer_available():
        print("skipped: needs ../shared/datasets/hardhat/valid and GStreamer's RTSP server")
        return 0
    from serving.cli.admin import upgrade
    from serving.pipelines.camera_board import CameraBoard
    from serving.pipelines.camera_inspect import Inspection
    from serving.pipelines.camera_monitor import build_monitor, inspect_task
    from serving.settings import CameraSettings
    from serving.tasks.handlers import register_handlers
    from tests.support.api import embedded_settings
    from tests.support.video import read_pattern
    from workflow.services.queries import HazardFilter, hazard_detail, list_hazards

    scenes = _scenes(args.scenes, args.seed)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        video = tmp / "plant.mp4"
        write_video(video, scenes, args.scene_s, args.scale)
        server = RtspServer(video, live=True).start()
        tiling = args.tiling if args.tiling in ("off", "auto") else int(args.tiling)
        camera = {"id": "cctv-1", "name": "trial", "url": server.url(), "zone": "yard",
                  "interval_s": args.interval_s, "tiling": tiling}  # fmt: skip
        config = tmp / "cameras.yaml"
        config.write_text(yaml.safe_dump({"cameras": [camera]}))
        settings = embedded_settings(tmp, cameras=CameraSettings(config_file=config))
        upgrade(settings.database)
        from serving.bootstrap import bootstrap

        container = bootstrap(settings)
        register_handlers(container)
        monitor = build_monitor(container, CameraBoard())
        task = inspect_task(container)
        assert monitor is not None and task is not None
        seen: list[tuple[int, Inspection]] = []

        def on_inspection(inspection: Inspection) -> None:
            if inspection.annotated_key is None:
                return
            frame = cv2.imdecode(
                np.frombuffer(container.objects.get(inspection.annotated_key), np.uint8), cv2.IMREAD_COLOR
            )
            try:
                scene = read_pattern(np.ascontiguousarray(frame[H - STRIP[1] :, : STRIP[0]]))
            except ValueError:
                return
            seen.append((scene, inspection))
            if args.save is not None and scene < len(scenes):
                args.save.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(args.save / f"scene{scene:02d}.jpg"), frame)

        task.results.subscribe(on_inspection)
        started = time.monotonic()
        monitor.start()
        try:
            time.sleep(args.scene_s * len(scenes) + 5)
        finally:
            monitor.stop(timeout_s=15)
            server.stop()
        hazards = list_hazards(container.workflow, HazardFilter()).items
        hazard_scenes: dict[int, set[int]] = defaultdict(set)
        for h in hazards:
            for e in hazard_detail(container.workflow, h.id).evidence:
                for scene, ins in seen:
                    if ins.at == e.at:
                        hazard_scenes[scene].add(h.id)
        container.close()
    print(f"{len(seen)} inspections in {time.monotonic() - started:.0f} s; tiling {args.tiling}; "
          f"{len(hazards)} hazards: {sorted({h.kind for h in hazards})}")  # fmt: skip
    rows = {"bare": [0, 0, 0, 0], "helmets": [0, 0, 0, 0]}  # scenes, with finding frames, frames, hazards
    for index, (photo, bare, helmets) in enumerate(scenes):
        mine = [ins for scene, ins in seen if scene == index]
        # the scene-number strip (red/blue blocks) is sometimes boxed as helmets: not part of the scene
        flagged = sum(
            any(f.kind == "ppe.no_helmet" and not _in_strip(f.box) for f in ins.findings) for ins in mine
        )
        people = sorted({ins.people for ins in mine})
        kind = "bare" if bare else "helmets"
        r = rows[kind]
        r[0], r[1], r[2], r[3] = r[0] + 1, r[1] + flagged, r[2] + len(mine), r[3] + bool(hazard_scenes[index])
        print(f"  scene {index:2d} {photo.stem[:6]} {bare} bare / {helmets} helmets: no_helmet in "
              f"{flagged}/{len(mine)} snapshots, hazard {'yes' if hazard_scenes[index] else 'no '}, "
              f"people counted {people}")  # fmt: skip
    for kind, (n, flagged, frames, opened) in rows.items():
        print(
            f"{kind:8s} scenes {n}: no_helmet in {flagged}/{frames} snapshots, hazards in {opened}/{n} scenes"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
