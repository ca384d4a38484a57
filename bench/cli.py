"""Measure how quickly the command line answers, side by side with the interpreter importing its libraries.

Runs, interleaved and repeated, each as a new process: ``python -c "import click"`` and
``casework --help`` (floor: --help within 1.5× of importing click); ``python -c "import sqlalchemy"``
and ``class list``, ``case list`` and ``case show`` on a demo database (floor: within 0.3 s wall,
or within 2.5× of importing SQLAlchemy, whichever the machine allows). Prints the median wall time
of each, the ratios, the load average, and whether each floor is met.

    .venv/bin/python bench/cli.py [--runs 7] [--children 16] [--db FILE]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HELP_FLOOR = 1.5
READ_FLOOR_SECONDS = 0.3
READ_FLOOR_RATIO = 2.5
BIN = Path(sys.executable).parent


CPU: dict[str, list[float]] = {}


def wall(argv: list[str], env: dict[str, str], name: str = "") -> float:
    """Wall time of one run; its CPU time (user + system) is kept in CPU[name]: on a loaded machine
    the CPU time says more than the wall time about the program itself."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if name:
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        CPU.setdefault(name, []).append(cpu)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()[:500]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--children", type=int, default=16)
    parser.add_argument("--db", help="An existing demo database (default: build one in a temporary folder)")
    args = parser.parse_args()
    casework = str(BIN / "casework")
    # As a user runs it: with compiled modules cached (the warm-up run writes them).
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEWORK_") and k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as folder:
        db = args.db or str(Path(folder) / "demo.db")
        if not args.db:
            subprocess.run(
                [casework, "--db", db, "demo", "--children", str(args.children)],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        probes = {
            "import click": [sys.executable, "-c", "import click"],
            "casework --help": [casework, "--help"],
            "import sqlalchemy": [sys.executable, "-c", "import sqlalchemy"],
            "class list": [casework, "--db", db, "--as", "赵校务", "class", "list"],
            "case list": [casework, "--db", db, "--as", "郑心怡", "case", "list"],
            "case show": [casework, "--db", db, "--as", "周建国", "case", "show", "1"],
        }
        times: dict[str, list[float]] = {name: [] for name in probes}
        for argv in probes.values():  # warm the file cache once
            wall(argv, env)
        for _ in range(args.runs):  # interleaved: a burst of load hits every probe alike
            for name, argv in probes.items():
                times[name].append(wall(argv, env, name))
    median = {name: statistics.median(values) for name, values in times.items()}
    load = os.getloadavg()
    cpu = {name: statistics.median(values) for name, values in CPU.items()}
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {args.runs} runs each, medians")
    print(f"  {'':<18} {'wall':>8}    {'CPU':>8}")
    for name, value in median.items():
        print(f"  {name:<18} {value * 1000:8.0f} ms {cpu[name] * 1000:8.0f} ms")
    print(
        "CPU-time ratios: --help / click "
        f"{cpu['casework --help'] / cpu['import click']:.2f}; "
        + "; ".join(
            f"{n} / sqlalchemy {cpu[n] / cpu['import sqlalchemy']:.2f}"
            for n in ("class list", "case list", "case show")
        )
    )
    ratio = median["casework --help"] / median["import click"]
    verdict = "met" if ratio <= HELP_FLOOR else "NOT met"
    print(f"casework --help / import click = {ratio:.2f} (floor {HELP_FLOOR}×): {verdict}")
    base = median["import sqlalchemy"]
    for name in ("class list", "case list", "case show"):
        r = median[name] / base
        met = median[name] <= READ_FLOOR_SECONDS or r <= READ_FLOOR_RATIO
        print(
            f"{name} = {median[name]:.3f} s, {r:.2f}× import sqlalchemy "
            f"(floor {READ_FLOOR_SECONDS} s or {READ_FLOOR_RATIO}×): {'met' if met else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
