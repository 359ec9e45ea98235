"""What people read for a hazard or finding kind, in Chinese and English: the ledger, the KPI sheet and
the annotated images use these (the web UI has the same words in ``static/i18n.js``)."""

from __future__ import annotations

import re

_LABELS: dict[str, tuple[str, str]] = {  # kind: (zh, en)
    "ppe.no_helmet": ("未戴安全帽", "No helmet"),
    "ppe.no_vest": ("未穿反光衣", "No high-visibility vest"),
    "leak.drip": ("泄漏（滴漏）", "Leak (drip)"),
    "leak.stain": ("泄漏（渍迹）", "Leak (stain)"),
    "leak.vapour": ("泄漏（气雾）", "Leak (vapour)"),
    "leak.corrosion": ("腐蚀", "Corrosion"),
    "leak.suspected": ("疑似泄漏（监视区域变化）", "Suspected leak (watched region changed)"),
    "permit.no_valid_permit": ("无有效作业许可", "Work without a valid permit"),
    "manual.housekeeping": ("现场管理", "Housekeeping"),
    "manual.fire": ("消防安全", "Fire safety"),
    "manual.electrical": ("用电安全", "Electrical safety"),
    "manual.ppe": ("劳动防护", "Personal protection"),
    "manual.leak": ("跑冒滴漏", "Leak or spill"),
    "manual.height": ("高处作业", "Work at height"),
    "manual.other": ("其他", "Other"),
}
_CLASSES: dict[str, tuple[str, str]] = {  # detector class names drawn on annotated images
    "head": ("头部", "head"),
    "helmet": ("安全帽", "helmet"),
    "person": ("人员", "person"),
    "vest": ("反光衣", "vest"),
    "leak": ("泄漏", "leak"),
    "stain": ("渍迹", "stain"),
    "corrosion": ("腐蚀", "corrosion"),
}
# What a watched region watches (the web UI's ``watchkind.*`` words) and its evidence panels' labels.
_REGION_KINDS: dict[str, tuple[str, str]] = {
    "flange": ("法兰", "flange"),
    "valve": ("阀门", "valve"),
    "pump_seal": ("泵密封", "pump seal"),
    "pipe_run": ("管线", "pipe run"),
    "floor": ("地面（积液）", "floor (puddles)"),
}
_PANELS = {"zh": ("变化前", "现在"), "en": ("before", "now")}
_SENSOR_TIER = re.compile(r"^sensor\.tier(\d+)$")


def drawn_label(name: str, lang: str) -> str:
    """A finding kind or a detector class name as drawn on annotated images."""
    if name in _CLASSES:
        return _CLASSES[name][0 if lang == "zh" else 1]
    return kind_label(name, lang)


def label_characters() -> str:
    """Every character the Chinese labels use (what the shipped font subset must hold)."""
    texts = [zh for zh, _ in _LABELS.values()] + [zh for zh, _ in _CLASSES.values()] + ["气体浓度报警（级）"]
    texts += list(_PANELS["zh"])
    return "".join(sorted(set("".join(texts))))


def kind_label(kind: str, lang: str) -> str:
    """The label of ``kind`` in ``lang`` ("zh" or "en"); an unknown kind is shown as it is."""
    zh = lang == "zh"
    if kind in _LABELS:
        return _LABELS[kind][0 if zh else 1]
    tier = _SENSOR_TIER.match(kind)
    if tier is not None:
        return f"气体浓度报警（{tier.group(1)}级）" if zh else f"Gas reading, tier {tier.group(1)}"
    return kind


def region_kind_words(kind: str, lang: str) -> str:
    """What a watched region of ``kind`` watches, in words (as the region editor names it)."""
    zh, en = _REGION_KINDS.get(kind, (kind, kind))
    return zh if lang == "zh" else en


def evidence_panels(lang: str) -> tuple[str, str]:
    """The labels of a watched region's evidence panels: before the change, and now."""
    return _PANELS["zh" if lang == "zh" else "en"]
