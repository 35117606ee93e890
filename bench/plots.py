"""The PNG plots of a run (matplotlib): one figure per measure, one panel per async mode, ours against the floor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

Results = dict[str, Any]
PLAIN = FuncFormatter(lambda value, _: f"{value:g}")
STYLE = {
    "ours": {"color": "tab:blue", "marker": "o"},
    "floor": {"color": "tab:gray", "marker": "s"},
}


def _series(run: Results, section: str, *path: str) -> tuple[list[int], list[float]]:
    xs, ys = [], []
    for key, value in sorted(run.get(section, {}).items(), key=lambda item: int(item[0])):
        for step in path:
            value = value.get(step) if isinstance(value, dict) else None
        if isinstance(value, (int, float)):
            xs.append(int(key))
            ys.append(float(value))
    return xs, ys


def _figure(
    results: Results,
    title: str,
    xlabel: str,
    ylabel: str,
    lines: list[tuple[str, str, tuple[str, ...]]],
    log_y: bool = False,
) -> Figure:
    modes = list(results["runs"])
    figure, axes = plt.subplots(
        1, len(modes), figsize=(4.2 * len(modes), 3.6), squeeze=False, sharey=True
    )
    for ax, mode in zip(axes[0], modes):
        ticks: set[int] = set()
        for kind, run in results["runs"][mode].items():
            for label, section, path in lines:
                xs, ys = _series(run, section, *path)
                ticks.update(xs)
                dashed = "p99" in label
                ax.plot(xs, ys, label=f"{kind} {label}".strip(), linestyle="--" if dashed else "-",
                        **STYLE.get(kind, {}))  # fmt: skip
        ax.set_title(mode)
        ax.set_xscale("log")
        ax.set_xticks(sorted(ticks))
        ax.xaxis.set_major_formatter(PLAIN)
        ax.xaxis.set_minor_formatter(NullFormatter())
        if log_y:
            ax.set_yscale("log")
            ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(PLAIN)
            ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(xlabel)
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel(ylabel)
    axes[0][-1].legend(fontsize="small")
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def draw(results: Results, folder: Path) -> list[Path]:
    """Write requests.png, latency.png and fanout.png into ``folder``; their paths."""
    figures = {
        "requests.png": _figure(
            results, "Socket requests/s (get /echo), sockets sending back to back", "sockets", "requests/s",
            [("", "requests", ("rps",))],
        ),
        "latency.png": _figure(
            results, "Socket request latency, p50 (solid) and p99 (dashed)", "sockets", "ms",
            [("p50", "requests", ("latency", "p50_ms")), ("p99", "requests", ("latency", "p99_ms"))], log_y=True,
        ),
        "fanout.png": _figure(
            results, "Fan-out: post to all subscribers holding the create, p50 (solid) and p99 (dashed)",
            "subscribers", "ms",
            [("p50", "fanout", ("all_delivered", "p50_ms")), ("p99", "fanout", ("all_delivered", "p99_ms"))],
            log_y=True,
        ),
    }  # fmt: skip
    written = []
    for name, figure in figures.items():
        path = folder / name
        figure.savefig(path, dpi=100)
        plt.close(figure)
        written.append(path)
    return written
