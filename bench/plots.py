"""The PNG plots of a run (matplotlib): one figure per measure, one panel per async mode, ours against the floor and Sails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

from . import report  # noqa: E402

Results = dict[str, Any]
PLAIN = FuncFormatter(lambda value, _: f"{value:g}")
STYLE = {
    "ours": {"color": "tab:blue", "marker": "o"},
    "floor": {"color": "tab:gray", "marker": "s"},
    "Sails": {"color": "tab:red", "marker": "^"},
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
        sails = report.sails_run(results)
        for kind, run in [*results["runs"][mode].items(), *([("Sails", sails)] if sails else [])]:
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


#: The ratios plotted in ratios.png: (metric, whether higher is better); fan-out at FANOUT_COUNT subscribers.
HEADLINES = (
    ("socket req/s, 1 socket", True),
    ("socket req/s, 50 sockets", True),
    ("server CPU µs/request, 50 sockets", False),
    ("fan-out {}: all delivered p50 ms", False),
    ("fan-out {}: server CPU µs/delivery", False),
    ("KiB per idle socket", False),
)
FANOUT_COUNT = 1000


def _fanout_count(results: Results) -> int | None:
    """1,000 subscribers if the run has it, else the largest count it has."""
    counts = {int(key) for run in results["runs"].values() for kind in run.values()
              for key in (kind.get("fanout") or {})}  # fmt: skip
    return FANOUT_COUNT if FANOUT_COUNT in counts else max(counts, default=None)


def _ratios(results: Results) -> Figure:
    """Ours over Sails and over the floor, for the headline figures, one panel per mode."""
    modes = list(results["runs"])
    count = _fanout_count(results)
    names = [(name.format(f"{count:,}" if count else "?"), higher) for name, higher in HEADLINES]
    figure, axes = plt.subplots(
        1, len(modes), figsize=(4.6 * len(modes), 3.8), squeeze=False, sharey=True
    )
    for ax, mode in zip(axes[0], modes):
        by_name = {row.metric: row for row in report.rows(results, mode)}
        positions = range(len(names))
        for offset, base, label in (
            (-0.2, "sails", "ours ÷ Sails"),
            (0.2, "floor", "ours ÷ floor"),
        ):
            values = [
                (by_name[name].ratio(base) if name in by_name else None) or 1.0 for name, _ in names
            ]
            # Each bar runs from 1 to the ratio: left of the line ours is lower, right of it higher.
            ax.barh([p + offset for p in positions], [value - 1 for value in values], left=1.0, height=0.38,
                    label=label, color=STYLE["Sails" if base == "sails" else "floor"]["color"])  # fmt: skip
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.set_yticks(list(positions))
        ax.set_yticklabels([f"{name} ({'higher' if higher else 'lower'} is better)" for name, higher in names],
                           fontsize="small")  # fmt: skip
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(PLAIN)
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(mode)
        ax.set_xlabel("ours ÷ peer")
        ax.grid(True, axis="x", which="both", alpha=0.3)
    axes[0][-1].legend(fontsize="small")
    figure.suptitle(
        "Ours over Sails and over the floor (bars from 1, the same; no bar: the same or no figure)"
    )
    figure.tight_layout()
    return figure


def _processes(results: Results) -> Figure:
    """Deliveries per second and time to the last delivery, by number of processes on one Redis."""
    runs = {int(count): run for count, run in results["processes"].items() if "error" not in run}
    counts = sorted(runs)
    figure, (rate, latency) = plt.subplots(1, 2, figsize=(8.4, 3.6))
    rate.bar([str(count) for count in counts], [runs[count]["deliveries_per_s"] for count in counts],
             color=STYLE["ours"]["color"])  # fmt: skip
    rate.set_xlabel("processes")
    rate.set_ylabel("deliveries/s (p50 round)")
    for label, key, dashed in (("p50", "p50_ms", False), ("p99", "p99_ms", True)):
        latency.plot([str(count) for count in counts], [runs[count]["all_delivered"][key] for count in counts],
                     label=label, linestyle="--" if dashed else "-", **STYLE["ours"])  # fmt: skip
    latency.set_xlabel("processes")
    latency.set_ylabel("ms until all subscribers hold it")
    latency.set_ylim(bottom=0)
    latency.legend()
    subscribers = results["meta"]["plan"]["processes_subscribers"]
    figure.suptitle(
        f"Many processes on one Redis: fan-out to {subscribers:,} subscribers spread over them"
    )
    figure.tight_layout()
    return figure


def draw(results: Results, folder: Path) -> list[Path]:
    """Write requests.png, latency.png, fanout.png, ratios.png and processes.png into ``folder``; their paths."""
    figures: dict[str, Figure] = {} if not results["runs"] else {
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
        "ratios.png": _ratios(results),
    }  # fmt: skip
    if results.get("processes"):
        figures["processes.png"] = _processes(results)
    written = []
    for name, figure in figures.items():
        path = folder / name
        figure.savefig(path, dpi=100)
        plt.close(figure)
        written.append(path)
    return written
