"""Benchmark: the simulator at state scale and for one national year.

    .venv/bin/python bench/simulate.py                  # state (1 year) then nation (1 year)
    .venv/bin/python bench/simulate.py --scale state    # only the state
    .venv/bin/python bench/simulate.py --scale nation --children 7300000   # a tenth of a nation
    .venv/bin/python bench/simulate.py --calibration    # state, 4 years: CFSR vs national

Each run goes through the library exactly as ``kinfolk simulate run`` does (warm-up years
included, Parquet tables plus the persons CSV files) into a temporary directory that is removed
afterwards. Printed per run: wall seconds, rows written per table, rows per second (all tables
and persons records together) and peak resident memory of the main process and of the worker
processes (Linux ru_maxrss). Goal (issue 5): one national year in at most 5 minutes on 2 cores.

Measured 2026-11-23 on the shared 2-core development machine (load average 4-5 from other
work), 2 workers, one year after the 4 warm-up years (5 simulated years):
  state   1.4 M children:  4.8 s wall,   3.2 s CPU,  ~0.9 M rows, 220 k rows/s, 211 MB peak
  nation  73 M children: 171 s wall, 145 s CPU, 54 M rows, 319 k rows/s, 287 MB peak, 3.6 GB
After households.csv, relationships.csv and persons_links.csv were added (2026-11, same
machine, load from other work): state 7.7-8.1 s CPU (8.2 s measured just before the change),
6.2-16.3 s wall depending on the load, 1.5 M rows, 251 MB peak worker.
2026-12-01, same machine, load average 4.5-6.8 from other work throughout (so wall time is about
1.5x the CPU time over 2 workers):
  state   1.4 M children:   7.8 s wall,   4.8 s CPU, 1.0 M rows, 193 k rows/s, 247 MB peak worker
  nation  73 M children: 364.8 s wall, 231.1 s CPU, 78 M rows, 215 k rows/s, 270 MB peak worker,
          6.0 GB (375.7 s wall, 256.6 s CPU in a second run)
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kinfolk.simulate.output import RunConfig, run


def _peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0


def _cpu_seconds() -> float:
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def bench(scale: str, years: int, workers: int, children: int | None, seed: int) -> None:
    directory = Path(tempfile.mkdtemp(prefix=f"kinfolk-bench-{scale}-"))
    try:
        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        manifest = run(
            RunConfig(
                scale=scale,
                years=years,
                seed=seed,
                output=directory / "out",
                children=children,
                workers=workers,
                progress=sys.stderr.isatty(),
            )
        )
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_before
        size = sum(p.stat().st_size for p in (directory / "out").iterdir()) / 1e6
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    rows = manifest["rows"]
    total = sum(rows.values())
    simulated = manifest["warmup_years"] + years
    print(
        f"{scale}: {manifest['children']:,} children, {manifest['households']:,} households, "
        f"{years} year(s) + {manifest['warmup_years']} warm-up = {simulated} simulated years, "
        f"{workers} worker(s)"
    )
    print(f"  wall time        {seconds:10.1f} s")
    # On a shared machine wall time includes waiting for the CPU; CPU time does not.
    print(f"  CPU time         {cpu:10.1f} s (all processes)")
    for name, count in rows.items():
        print(f"  {name:16} {count:>12,} rows")
    print(f"  rows per second  {total / seconds:12,.0f}")
    print(f"  output size      {size:10.1f} MB")
    print(f"  peak memory      {_peak_mb(resource.RUSAGE_SELF):10.0f} MB main process")
    print(f"                   {_peak_mb(resource.RUSAGE_CHILDREN):10.0f} MB largest worker")


def calibration(seed: int, workers: int) -> int:
    """A state-scale run scored by the outcomes engine (through its command) against the
    CFSR Round 4 national performance; issue 5 asks for every indicator within 15%."""
    directory = Path(tempfile.mkdtemp(prefix="kinfolk-calibration-"))
    kinfolk = str(Path(sys.executable).with_name("kinfolk"))
    try:
        out = directory / "state"
        run(RunConfig(scale="state", years=4, seed=seed, output=out, workers=workers))
        check = subprocess.run(
            [kinfolk, "simulate", "check", str(out)], check=True, capture_output=True, text=True
        )
        print(check.stdout.split("targets:")[0])
        manifest = json.loads((out / "simulation.json").read_text(encoding="utf-8"))
        # The last fiscal year with two years of follow-up (re-entry needs them).
        period = manifest["fiscal_years"][-3]["start"]
        result = subprocess.run(
            [kinfolk, "outcomes", "compute", "--input", str(out), "--period-start", period],
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    indicators = json.loads(result.stdout)["indicators"]
    print(f"outcomes engine, state scale, seed {seed}, P starting {period}")
    print(f"{'indicator':24} {'value':>8} {'national':>9} {'ratio':>6}  within 15%")
    failed = 0
    for name, entry in indicators.items():
        value, national = entry.get("value"), entry.get("national_performance")
        if value is None or not national:
            print(f"{name:24} {'-':>8} {national!s:>9}      -  not computable")
            failed += 1
            continue
        ratio = value / national
        ok = abs(ratio - 1) <= 0.15
        failed += not ok
        print(f"{name:24} {value:8.2f} {national:9.2f} {ratio:6.2f}  {'yes' if ok else 'NO'}")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("state", "nation", "both"), default="both")
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--children", type=int, default=None, help="override the population")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--calibration", action="store_true", help="CFSR check at state scale")
    args = parser.parse_args()
    if args.calibration:
        return calibration(args.seed, args.workers)
    scales = ("state", "nation") if args.scale == "both" else (args.scale,)
    for scale in scales:
        bench(scale, args.years, args.workers, args.children, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
