"""Run every benchmark once, one after another, at the scale a developer can wait for.

    .venv/bin/python bench/run_all.py          # what `make bench` runs
    .venv/bin/python bench/run_all.py --full   # each benchmark's own default (national scales)

Each benchmark prints its own figures; this only runs them in turn (they must not share the
two cores, or each one's timings measure the others) and says at the end which failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

QUICK = [
    ["simulate.py", "--scale", "state"],
    ["outcomes.py", "--scale", "state"],
    ["matching.py", "--quick"],
    ["intake.py"],
]
FULL = [["simulate.py"], ["outcomes.py", "--scale", "nation"], ["matching.py"], ["intake.py"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="each benchmark at its full scale")
    args = parser.parse_args(argv)
    failed: list[str] = []
    for command in FULL if args.full else QUICK:
        print(f"\n=== bench/{' '.join(command)}", flush=True)
        begin = time.perf_counter()
        code = subprocess.call([sys.executable, str(HERE / command[0]), *command[1:]])
        print(f"=== {command[0]}: exit {code}, {time.perf_counter() - begin:.0f} s", flush=True)
        if code != 0:
            failed.append(command[0])
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
