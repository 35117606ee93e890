"""The results of a run as rows: Sails, the floor and ours, ours' ratios to both, and the issues' goals; as text, reST and JSON."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

Results = dict[str, Any]


@dataclass(frozen=True)
class Goal:
    """A bound on ours over a peer (``base``: "floor" or "sails"), in the async modes it applies to (all if empty)."""

    base: str
    op: str  # "≥", "≤" or "<"
    limit: float
    modes: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.op} {self.limit:g}× {PEER_NAMES[self.base]}"

    def met(self, ratio: float | None) -> bool | None:
        """Whether ``ratio`` (ours over the base) meets the goal; None without a ratio."""
        if ratio is None:
            return None
        if self.op == "≥":
            return ratio >= self.limit
        if self.op == "≤":
            return ratio <= self.limit
        return ratio < self.limit


PEER_NAMES = {"floor": "floor", "sails": "Sails"}
GEVENT = ("gevent",)
#: Goals by metric: the floor's from the benchmark's first issue (every mode), Sails' and the
#: halved delivery cost from issue 19 ("Faster than Sails", under gevent).
GOALS: dict[str, tuple[Goal, ...]] = {
    "socket req/s, 50 sockets": (Goal("floor", "≥", 0.8), Goal("sails", "≥", 1, GEVENT)),
    "fan-out 1,000: all delivered p50 ms": (Goal("floor", "≤", 1.2), Goal("sails", "≤", 1, GEVENT)),
    "fan-out 1,000: server CPU µs/delivery": (
        Goal("floor", "≤", 0.5, GEVENT),
        Goal("sails", "<", 1, GEVENT),
    ),
    "KiB per idle socket": (Goal("floor", "≤", 1.1), Goal("sails", "≤", 1.5, GEVENT)),
}


@dataclass(frozen=True)
class Row:
    """One figure of one mode: Sails (the same in every mode), the floor, ours, ours' ratios, the goals."""

    metric: str
    ours: float | None
    floor: float | None
    sails: float | None = None
    goals: tuple[Goal, ...] = ()

    def ratio(self, base: str) -> float | None:
        """Ours over ``base`` ("floor" or "sails")."""
        peer = self.floor if base == "floor" else self.sails
        if self.ours is None or not peer:
            return None
        return self.ours / peer

    @property
    def verdict(self) -> str:
        """Each goal with ``met``/``missed`` where both figures are there (``"≥ 0.8× floor met"``)."""
        parts = []
        for goal in self.goals:
            met = goal.met(self.ratio(goal.base))
            parts.append(f"{goal}" + ("" if met is None else " met" if met else " missed"))
        return "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric, "sails": self.sails, "floor": self.floor, "ours": self.ours,
            "ours_over_sails": self.ratio("sails"), "ours_over_floor": self.ratio("floor"),
            "goals": [{"goal": str(goal), "met": goal.met(self.ratio(goal.base))} for goal in self.goals],
        }  # fmt: skip


def _get(run: Results | None, *path: str) -> float | None:
    value: Any = run
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return float(value) if isinstance(value, (int, float)) else None


def _plural(count: str, word: str) -> str:
    return f"{int(count):,} {word}{'' if count == '1' else 's'}"


def field(*path: str) -> Callable[[Results], float | None]:
    """A function reading the figure at ``path`` in one server's results."""
    return lambda run: _get(run, *path)


def _metrics(*runs: Results) -> Iterator[tuple[str, Callable[[Results], float | None]]]:
    def keys(section: str) -> list[str]:
        return sorted({key for run in runs for key in run.get(section, {})}, key=int)

    for count in keys("requests"):
        yield f"socket req/s, {_plural(count, 'socket')}", field("requests", count, "rps")
    for count in keys("requests"):
        where = _plural(count, "socket")
        yield f"latency p50 ms, {where}", field("requests", count, "latency", "p50_ms")
        yield f"latency p99 ms, {where}", field("requests", count, "latency", "p99_ms")
    for count in keys("requests"):
        yield (
            f"server CPU µs/request, {_plural(count, 'socket')}",
            field("requests", count, "server_cpu_us_per_request"),
        )
    for count in keys("http"):
        yield f"HTTP req/s, {_plural(count, 'connection')}", field("http", count, "rps")
    for count in keys("fanout"):
        name = f"fan-out {int(count):,}"
        yield f"{name}: all delivered p50 ms", field("fanout", count, "all_delivered", "p50_ms")
        yield f"{name}: all delivered p99 ms", field("fanout", count, "all_delivered", "p99_ms")
        yield f"{name}: deliveries/s", field("fanout", count, "deliveries_per_s")
        yield (
            f"{name}: server CPU µs/delivery",
            field("fanout", count, "server_cpu_us_per_delivery"),
        )
    yield "KiB per idle socket", field("memory", "kib_per_socket")


def sails_run(results: Results) -> Results:
    """Sails' results of the run (measured once, shown beside every mode); empty if it was left out."""
    run = results.get("sails")
    return run if isinstance(run, dict) else {}


def rows(results: Results, mode: str) -> list[Row]:
    """The rows of one async mode."""
    run = results["runs"].get(mode, {})
    ours, floor, sails = run.get("ours", {}), run.get("floor", {}), sails_run(results)
    return [
        Row(name, get(ours), get(floor), get(sails),
            tuple(goal for goal in GOALS.get(name, ()) if not goal.modes or mode in goal.modes))
        for name, get in _metrics(ours, floor, sails)
    ]  # fmt: skip


def table(results: Results) -> dict[str, list[dict[str, Any]]]:
    """Every mode's rows with both ratios and the goals' verdicts, for results.json."""
    return {mode: [row.as_dict() for row in rows(results, mode)] for mode in results["runs"]}


def number(value: float | None) -> str:
    """A figure at a precision fit for its size."""
    if value is None:
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _cells(row: Row) -> list[str]:
    return [
        row.metric, number(row.sails), number(row.floor), number(row.ours),
        _ratio(row.ratio("sails")), _ratio(row.ratio("floor")), row.verdict,
    ]  # fmt: skip


HEADER = ["metric", "Sails", "floor", "ours", "ours/Sails", "ours/floor", "goal"]


def text_table(results: Results) -> str:
    """The whole table, one block per mode, for the terminal."""
    lines = []
    for mode in results["runs"]:
        cells = [HEADER, *(_cells(row) for row in rows(results, mode))]
        widths = [max(len(line[i]) for line in cells) for i in range(len(HEADER))]
        lines.append(f"== {mode} (Sails: Node, the same run in every mode) ==")
        for line in cells:
            first, *middle, last = line
            lines.append("  ".join([
                first.ljust(widths[0]), *(c.rjust(w) for c, w in zip(middle, widths[1:-1])), last,
            ]).rstrip())  # fmt: skip
        lines.append("")
    if results.get("processes"):
        lines.append("== many processes (gevent, one Redis) ==")
        lines.extend("  ".join(cell.rjust(22) for cell in line) for line in process_rows(results))
        lines.append("")
    lines.extend(f"warning: {warning}" for warning in results.get("warnings", []))
    return "\n".join(lines)


PROCESS_HEADER = ["processes", "deliveries/s", "all delivered p50 ms", "p99 ms", "missing"]


def process_rows(results: Results) -> list[list[str]]:
    """The many-processes table: header, then one row per process count."""
    lines = [PROCESS_HEADER]
    for count, run in results.get("processes", {}).items():
        if "error" in run:
            lines.append([count, "failed", "", "", ""])
            continue
        done = run["all_delivered"]
        lines.append([
            count, number(run["deliveries_per_s"]), number(done["p50_ms"]), number(done["p99_ms"]),
            str(run["missing"]),
        ])  # fmt: skip
    return lines


def rst_tables(results: Results) -> str:
    """One ``list-table`` per mode, for docs/performance.rst to include."""
    out = [".. Generated by python -m bench from results.json; do not edit.", ""]
    for mode in results["runs"]:
        out += [f".. list-table:: {mode}", "   :header-rows: 1", "   :widths: 34 9 9 9 9 9 21", ""]
        for line in [HEADER, *(_cells(row) for row in rows(results, mode))]:
            out.append(f"   * - {line[0]}")
            out.extend(f"     - {cell}" if cell else "     -" for cell in line[1:])
        out.append("")
    if results.get("processes"):
        subscribers = results["meta"]["plan"]["processes_subscribers"]
        out += [
            f".. list-table:: many processes: fan-out to {subscribers:,} subscribers spread over "
            "the processes, gevent, one Redis",
            "   :header-rows: 1", "",
        ]  # fmt: skip
        for line in process_rows(results):
            out.append(f"   * - {line[0]}")
            out.extend(f"     - {cell}" if cell else "     -" for cell in line[1:])
        out.append("")
    return "\n".join(out)
