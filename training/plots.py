"""PR-curve and confusion-matrix PNGs (matplotlib, Agg backend, bundled DejaVu font: nothing downloaded)."""

from __future__ import annotations

from pathlib import Path

from training.metrics import EvaluationMetrics


def write_plots(metrics: EvaluationMetrics, names: tuple[str, ...], out_dir: Path) -> tuple[Path, Path]:
    """Write ``pr_curve.png`` and ``confusion_matrix.png`` into ``out_dir``; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")  # headless; must precede pyplot
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    pr_path, cm_path = out_dir / "pr_curve.png", out_dir / "confusion_matrix.png"

    fig, ax = plt.subplots(figsize=(6, 5), dpi=100)
    for curve, cm in zip(metrics.pr_curves, metrics.per_class, strict=True):
        if curve.recall:
            ax.plot(curve.recall, curve.precision, label=f"{curve.name} AP50={cm.ap50:.3f}")
    ax.set(
        xlabel="recall",
        ylabel="precision",
        xlim=(0, 1),
        ylim=(0, 1.02),
        title=f"PR @ IoU 0.5 (mAP50 {metrics.map50:.3f})",
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(pr_path)
    plt.close(fig)

    labels = [*names, "background"]
    fig, ax = plt.subplots(figsize=(1.2 * len(labels) + 2, 1.2 * len(labels) + 1.5), dpi=100)
    ax.imshow(metrics.confusion, cmap="Blues")
    for i, row in enumerate(metrics.confusion):
        for j, v in enumerate(row):
            ax.text(j, i, str(v), ha="center", va="center", fontsize=9)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set(xlabel="true", ylabel="predicted", title="confusion @ deployed thresholds, IoU 0.5")
    fig.tight_layout()
    fig.savefig(cm_path)
    plt.close(fig)
    return pr_path, cm_path
