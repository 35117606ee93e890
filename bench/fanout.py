"""The fan-out scenario alone: one blueprint create to many subscribers, per async mode.

``python -m bench.fanout`` starts each server as ``python -m bench`` does
(pinned to CPU 0, the load generator on CPU 1) and prints one JSON line per
server: server CPU µs per delivery, the time until all hold the create, and
the machine's load average. A few minutes, where the whole benchmark takes
twenty: for comparing two commits back to back.

    .venv/bin/python -m bench.fanout --modes gevent --servers ours,floor
"""

from __future__ import annotations

import argparse
import json
import os

from .launcher import running_server
from .run import MODES
from .scenarios import Plan, fanout


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fanout", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--modes", default="gevent", help=f"comma-separated, of {', '.join(MODES)}")
    parser.add_argument("--servers", default="ours", help="comma-separated: ours, floor")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    plan = Plan(rounds=args.rounds, warmup_rounds=3)
    for mode in args.modes.split(","):
        for kind in args.servers.split(","):
            with running_server(kind, mode) as server:
                result = fanout(server, args.subscribers, plan)
            line = {
                "mode": mode,
                "server": kind,
                "subscribers": args.subscribers,
                "cpu_us_per_delivery": round(result["server_cpu_us_per_delivery"], 1),
                "all_delivered_ms": result["all_delivered"],
                "missing": result.get("missing"),
                "load1": round(os.getloadavg()[0], 2),
            }
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
