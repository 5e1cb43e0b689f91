"""Draw the audit's pictures (:mod:`reconciler.render.pictures`) as small PNG files with matplotlib.

The images go beside the Markdown report and are linked from it by relative paths, so GitHub and
any Markdown viewer show them. They are drawn with the non-interactive Agg backend, fixed sizes
and no timestamps, and quantised to a small palette, so the same data gives the same bytes and a
file of a few tens of kilobytes.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from reconciler.render.pictures import CoverageGrid, MissingByDate

__all__ = ["write_coverage_png", "write_missing_png"]

_DPI = 100
_MONTHS = (("Nov", 0), ("Dec", 30), ("Jan", 61), ("Feb", 92), ("Mar", 120), ("Apr", 151))


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 8, "svg.hashsalt": "audit", "path.simplify": True})
    return plt


def _save(fig: Any, path: Path) -> int:
    """Save a figure as a palette PNG (deterministic, small); returns its size in bytes."""
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI, metadata={"Software": None})
    buf.seek(0)
    img = Image.open(buf).convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())
    return len(out.getvalue())


def write_coverage_png(grid: CoverageGrid, path: Path, *, title: str) -> int:
    """Draw the season × table coverage heatmap.

    Args:
        grid: The coverage.
        path: The PNG file to write.
        title: The figure's title.

    Returns:
        The file's size in bytes.
    """
    plt = _pyplot()
    n_s, n_t = grid.ratio.shape
    fig, ax = plt.subplots(figsize=(1.6 + 1.45 * n_t, 0.9 + 0.3 * n_s), layout="constrained")
    shown = np.ma.masked_invalid(grid.ratio * 100)
    cmap = plt.get_cmap("RdYlGn").with_extremes(bad="#e8e8e8")
    im = ax.imshow(shown, cmap=cmap, vmin=0, vmax=100, aspect="auto", interpolation="nearest")
    for i in range(n_s):
        for j in range(n_t):
            if grid.pending[i, j]:
                text, colour = "after apply", "#555555"
            elif np.isnan(grid.ratio[i, j]):
                text, colour = "·", "#777777"
            else:
                pct = grid.ratio[i, j] * 100
                text = "100%" if pct >= 100 else f"{pct:.1f}%"
                colour = "white" if pct < 25 or pct > 85 else "black"
            ax.text(j, i, text, ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(range(n_t), grid.tables)
    ax.set_yticks(range(n_s), [str(s) for s in grid.seasons])
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    ax.set_title(title, fontsize=9, pad=22)
    fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02, label="coverage (%)")
    size = _save(fig, path)
    plt.close(fig)
    return size


def write_missing_png(data: MissingByDate, path: Path, *, title: str) -> int:
    """Draw missing games by date: a panel per table, seasons as rows, days as columns, shade the share missing.

    Args:
        data: The counts.
        path: The PNG file to write.
        title: The figure's title.

    Returns:
        The file's size in bytes.
    """
    plt = _pyplot()
    n = max(1, len(data.tables))
    fig, axes = plt.subplots(n, 1, figsize=(10, 0.7 + 2.35 * n), sharex=True, squeeze=False, layout="constrained")
    cmap = plt.get_cmap("magma_r").with_extremes(bad="white")
    extent = (data.first_day - 0.5, data.first_day + data.days - 0.5, len(data.seasons) - 0.5, -0.5)
    played = np.maximum(data.played, 1).astype(float)
    im = None
    for ax, table in zip(axes[:, 0], data.tables or ("",), strict=False):
        counts = data.counts.get(table, np.zeros_like(data.played))
        shown = np.ma.masked_where(data.played == 0, 100 * counts / played)
        im = ax.imshow(shown, cmap=cmap, vmin=0, vmax=100, aspect="auto", interpolation="nearest", extent=extent)
        total, days = int(counts.sum()), int((counts > 0).sum())
        ax.set_title(f"{table}: {total:,} games missing, on {days:,} days", fontsize=8, loc="left")
        step = 2 if len(data.seasons) > 8 else 1
        ax.set_yticks(range(0, len(data.seasons), step), [str(s) for s in data.seasons[::step]])
        ax.tick_params(length=2)
    last = axes[-1, 0]
    last.set_xticks([d for _, d in _MONTHS], [m for m, _ in _MONTHS])
    last.set_xlabel("day of the season (UTC date of the game); white: no final game that day")
    fig.suptitle(title, fontsize=9)
    if im is not None:
        fig.colorbar(im, ax=axes[:, 0].tolist(), fraction=0.025, pad=0.01, label="share of the day's games missing (%)")
    size = _save(fig, path)
    plt.close(fig)
    return size
