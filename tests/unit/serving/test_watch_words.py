"""A suspected leak in the plant's label language: the hazard's description and the evidence labels."""

from __future__ import annotations

import numpy as np

from cameras.config import WatchRegionConfig
from serving.kind_labels import evidence_panels
from serving.pipelines.watched_regions import describe
from tests.support.watch_scene import textured_view, with_puddle
from vision.watch import RegionKind, RegionWatcher, WatchedRegion, WatchSettings

SEAL = WatchRegionConfig(
    name="P-7 seal", kind=RegionKind.PUMP_SEAL, points=[(200, 160), (320, 160), (320, 260)]
)
FLOOR = WatchRegionConfig(name="2号钻机下方地面", kind=RegionKind.FLOOR, points=[(0, 0), (50, 0), (50, 40)])


def test_a_suspected_leak_is_described_in_english_and_in_chinese() -> None:
    assert describe(SEAL, 120.0, 0.234, "en") == (
        "suspected leak at P-7 seal (pump seal): a leak-like change held for 2 min over 23% of the region"
    )
    assert describe(FLOOR, 45.0, 0.21, "en") == (
        "suspected leak at 2号钻机下方地面 (floor (puddles)): a leak-like change held for 45 s"
        " over 21% of the region"
    )
    assert describe(FLOOR, 60.0, 0.21, "zh") == (
        "疑似泄漏：2号钻机下方地面（地面（积液））出现类似泄漏的变化，已持续 1 分钟，占区域的 21%"
    )
    assert describe(SEAL, 8.0, 0.05, "zh") == (
        "疑似泄漏：P-7 seal（泵密封）出现类似泄漏的变化，已持续 8 秒，占区域的 5%"
    )


def test_the_evidence_panels_are_labelled_in_the_label_language() -> None:
    assert evidence_panels("zh") == ("变化前", "现在")
    assert evidence_panels("en") == ("before", "now")
    view = textured_view()
    watcher = RegionWatcher([WatchedRegion("r", (200.0, 160.0, 320.0, 260.0))], WatchSettings(persist_s=10.0))
    for i in range(10):
        frame = np.clip(view, 0, 255).astype(np.uint8)
        watcher.feed(with_puddle(frame, (260, 235), 40) if i >= 6 else frame, 5.0 * i)
    zh = watcher.side_by_side("r", frame, evidence_panels("zh"))
    en = watcher.side_by_side("r", frame, evidence_panels("en"))
    assert zh.shape == en.shape == (267, 644, 3)
    plate = zh[2:20, 2:40]  # the label's plate, top left: dark with white strokes
    assert (plate < 40).all(axis=2).mean() > 0.5 and (plate > 200).all(axis=2).any()
    assert not np.array_equal(zh[:24, :60], en[:24, :60])  # other words drawn
    assert np.array_equal(zh[40:, :], en[40:, :])  # and nothing else differs
