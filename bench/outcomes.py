"""Benchmark: the seven CFSR indicators against a raw DuckDB scan of the same Parquet files.

    .venv/bin/python bench/outcomes.py                          # simulator, state scale, 3 years
    .venv/bin/python bench/outcomes.py --scale nation --years 3 # simulator, national scale
    .venv/bin/python bench/outcomes.py --input DIR              # an existing table directory
    .venv/bin/python bench/outcomes.py --generated 500000       # the built-in NumPy generator

By default the input is the simulator's output: ``kinfolk simulate run --scale SCALE --years N
--seed S`` (run as a separate process, so its memory does not count in this process's peak),
written under ``var/bench/`` when the checkout has a ``var/`` directory and reused by later runs
with the same scale, years and seed (``--fresh`` simulates again), else into a temporary
directory removed afterwards. P is then the last simulated fiscal year whose 365-day follow-up
the data cover (the one before the last), and the data are taken as complete through the
simulation's end date. A national run simulates ~73 M children (minutes, several GB on disk);
it is not run by default.

``--generated N`` keeps the older vectorised NumPy input (children born 2000–2023, up to three
removal episodes each, 1–5 placements per episode, a few report rows per child, 2015–2025), for
quick runs without the simulator.

Prints, for the raw scan (``SELECT count(*), min(date), max(date), sum(hash(every column))`` over
every table) and for the indicators (open + validate the files in DuckDB with
``kinfolk.federal.tables.open_tables``, then the seven indicators and the data-quality checks as
one query over the same files, DuckDB backend, the two reference checks counted in that query as
``kinfolk outcomes compute`` does; both connect before their clock starts): seconds,
CPU seconds (this process, all threads), rows and the process's peak memory, then the ratio
indicators / scan in both. The indicators' line also shows the fixed, data-independent part:
building the Ibis expression and compiling it to SQL (timed again after the run, so warm), and
the time of a second ``compute`` of the same figures, which reuses the compiled SQL. Scan and
indicators run ``--repeat`` times (default 3), alternating, each indicators run on freshly opened
files (nothing compiled before is reused); the figures are medians and the ratio the median of
the runs' ratios, each run's ratio printed too. The machine's load average is printed before and
after: on a shared machine the wall-clock ratio moves with other people's work (one run's raw
scan here has taken anywhere from 3.6 to 4.7 s), the CPU ratio less. The goal in issue 6 is
ratio ≤ 2 and ≤ 60 s at national scale on a 2-core machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from simulated import simulated

SIMULATOR_SCALES = ("county", "state", "nation")
EPOCH = dt.date(1970, 1, 1)


def days(value: dt.date) -> int:
    return (value - EPOCH).days


def to_date(values: np.ndarray) -> pa.Array:
    return pa.array(values.astype("int32"), pa.int32()).cast(pa.date32())


def to_date_masked(values: np.ndarray, missing: np.ndarray) -> pa.Array:
    return pa.array(values.astype("int32"), pa.int32(), mask=missing).cast(pa.date32())


def ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    text = pa.array(numbers.astype("int64")).cast(pa.string())
    import pyarrow.compute as pc

    return pc.binary_join_element_wise(prefix, text, "")


def generate(children: int, seed: int = 7) -> dict[str, pa.Table]:
    rng = np.random.default_rng(seed)
    start, end = days(dt.date(2015, 1, 1)), days(dt.date(2025, 12, 31))
    dob = rng.integers(days(dt.date(2000, 1, 1)), days(dt.date(2023, 12, 31)), children)
    child = np.arange(children)
    counties = np.array([f"County {i:02d}" for i in range(67)])
    county_of_child = counties[rng.integers(0, len(counties), children)]
    race = rng.random((children, 5)) < np.array([0.02, 0.03, 0.25, 0.01, 0.6])
    child_table = pa.table(
        {
            "child_id": ids("C", child),
            "date_of_birth": to_date(dob),
            "sex": pa.array(rng.choice([1, 2, 9], children, p=[0.49, 0.49, 0.02]), pa.int16()),
            "race_amiakn": pa.array(race[:, 0].astype("int16")),
            "race_asian": pa.array(race[:, 1].astype("int16")),
            "race_blkafram": pa.array(race[:, 2].astype("int16")),
            "race_hawaiipi": pa.array(race[:, 3].astype("int16")),
            "race_white": pa.array(race[:, 4].astype("int16")),
            "race_unknown": pa.array((~race.any(axis=1)).astype("int16")),
            "hispanic": pa.array(rng.choice([1, 2, 3], children, p=[0.2, 0.75, 0.05]), pa.int16()),
        }
    )

    # Episodes: about a third of children are ever removed; some return up to twice.
    removed = rng.random(children) < 0.35
    ep_child, ep_r, ep_d, ep_reason = [], [], [], []
    cursor = np.maximum(dob, start) + rng.integers(0, 17 * 365, children)
    active = removed & (cursor < end)
    for _ in range(3):
        r = cursor[active]
        length = rng.exponential(420, r.size).astype("int64") + rng.integers(0, 15, r.size)
        d = r + length
        ep_child.append(child[active])
        ep_r.append(r)
        ep_d.append(d)
        ep_reason.append(
            rng.choice(
                [1, 2, 3, 4, 5, 6, 7, 8], r.size, p=[0.5, 0.08, 0.2, 0.08, 0.1, 0.02, 0.015, 0.005]
            )
        )
        nxt = d + rng.exponential(500, r.size).astype("int64") + 1
        returns = rng.random(r.size) < 0.25
        new_cursor = np.full(children, end + 1)
        new_cursor[child[active]] = np.where(returns, nxt, end + 1)
        cursor = new_cursor
        active = cursor < end
    e_child = np.concatenate(ep_child)
    e_r = np.concatenate(ep_r)
    e_d = np.concatenate(ep_d)
    e_reason = np.concatenate(ep_reason)
    still_in = e_d > end
    episodes = pa.table(
        {
            "child_id": ids("C", e_child),
            "removal_date": to_date(e_r),
            "discharge_date": to_date_masked(e_d, still_in),
            "discharge_reason": pa.array(e_reason.astype("int16"), mask=still_in),
            "county": pa.array(county_of_child[e_child]),
        }
    )

    # Placements: 1-5 per episode, spread evenly over the stay.
    n_pl = np.minimum(rng.poisson(1.3, e_r.size) + 1, 5)
    stay = np.minimum(e_d, end) - e_r
    n_pl = np.minimum(n_pl, np.maximum(stay, 1))
    rep = np.repeat(np.arange(e_r.size), n_pl)
    position = np.arange(rep.size) - np.repeat(np.cumsum(n_pl) - n_pl, n_pl)
    starts = e_r[rep] + (stay[rep] * position) // n_pl[rep]
    settings = rng.choice(
        [1, 2, 3, 4, 5, 6, 7, 8], rep.size, p=[0.05, 0.3, 0.35, 0.1, 0.08, 0.02, 0.03, 0.07]
    )
    settings[position == 0] = rng.choice([2, 3], int((position == 0).sum()))
    provider = rng.integers(0, max(children // 4, 10), rep.size)
    placements = pa.table(
        {
            "child_id": ids("C", e_child[rep]),
            "removal_date": to_date(e_r[rep]),
            "start_date": to_date(starts),
            "end_date": pa.nulls(rep.size, pa.date32()),
            "setting": pa.array(settings.astype("int16")),
            "temporary": pa.array((rng.random(rep.size) < 0.04).astype("int16")),
            "provider_id": ids("H", provider),
        }
    )

    # Reports: about half the children have 1-4 report rows.
    n_rep = np.where(rng.random(children) < 0.5, rng.integers(1, 5, children), 0)
    r_child = np.repeat(child, n_rep)
    r_date = rng.integers(np.maximum(dob[r_child], start), end + 1)
    incident_missing = rng.random(r_child.size) < 0.3
    reports = pa.table(
        {
            "report_id": ids("R", np.arange(r_child.size)),
            "child_id": ids("C", r_child),
            "report_date": to_date(r_date),
            "incident_date": to_date_masked(
                r_date - rng.integers(0, 20, r_child.size), incident_missing
            ),
            "maltreatment_type": pa.array(rng.integers(1, 10, r_child.size).astype("int16")),
            "maltreatment_level": pa.array(
                rng.choice([1, 2, 5, 7], r_child.size, p=[0.2, 0.1, 0.6, 0.1]).astype("int16")
            ),
            "county": pa.array(county_of_child[r_child]),
        }
    )
    return {
        "children": child_table,
        "episodes": episodes,
        "placements": placements,
        "reports": reports,
    }


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """This process's CPU time (user + system, all threads): on a shared machine it moves less
    with other people's load than the wall clock does."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


SCAN = {
    "children": "date_of_birth",
    "episodes": "removal_date",
    "placements": "start_date",
    "reports": "report_date",
}


def raw_scan(directory: Path) -> tuple[float, float, int]:
    """Seconds, CPU seconds and rows of one full pass over every table."""
    import duckdb

    con = duckdb.connect()
    begin, begin_cpu = time.perf_counter(), cpu_seconds()
    rows = 0
    for name, column in SCAN.items():
        path = directory / f"{name}.parquet"
        # count/min/max alone can be answered from Parquet metadata; hashing every column makes
        # DuckDB read every value once, which is the honest floor for a full pass.
        row = con.execute(
            f"SELECT count(*), min({column}), max({column}), sum(hash(COLUMNS(*))) "
            f"FROM read_parquet('{path}')"
        ).fetchone()
        assert row is not None
        rows += int(row[0])
    return time.perf_counter() - begin, cpu_seconds() - begin_cpu, rows


def indicators(
    directory: Path, period_start: dt.date, through: dt.date | None, *, detail: bool = True
) -> tuple[float, float, dict[str, object]]:
    """Check the files, compute the indicators and the data-quality checks, all in DuckDB.

    Each call opens the files afresh (new views, so nothing compiled by an earlier call is
    reused). ``detail`` also times the fixed part and a second compute, and prints them."""
    from kinfolk.federal.tables import open_tables
    from kinfolk.outcomes.compute import compute, connect, result_query
    from kinfolk.outcomes.engine import Period

    # Connected before the clock starts, as the raw scan is: loading Ibis's DuckDB backend is a
    # one-off import, not work on the data.
    con = connect("duckdb")
    begin, begin_cpu = time.perf_counter(), cpu_seconds()
    # As `kinfolk outcomes compute` opens them: the reference checks ride along in the query.
    tables = open_tables(directory, con, defer_checks=True)
    checked, checked_cpu = time.perf_counter(), cpu_seconds()
    result = compute(tables, period_start, con=con, through=through)
    done, done_cpu = time.perf_counter(), cpu_seconds()
    if not detail:
        return done - begin, done_cpu - begin_cpu, result
    # The fixed, data-independent part of that: building the Ibis expression and compiling it
    # to SQL (timed again here, outside the figure above).
    query = result_query(
        tables,
        Period.starting(period_start),
        through=dt.date.fromisoformat(str(result["data_through"])),
    )
    built = time.perf_counter()
    con.compile(query)
    compiled = time.perf_counter()
    # The same figures again in this process: the compiled SQL is reused (no fixed part).
    again = compute(tables, period_start, con=con, through=through)
    repeated = time.perf_counter()
    assert again == result
    print(
        f"  (open + validate {checked - begin:.2f} s / {checked_cpu - begin_cpu:.2f} s CPU, "
        f"indicators + data quality {done - checked:.2f} s / {done_cpu - checked_cpu:.2f} s CPU; "
        f"building the Ibis expression again takes {built - done:.2f} s and compiling it to SQL "
        f"{compiled - built:.2f} s; the same indicators again in this process, SQL cached: "
        f"{repeated - compiled:.2f} s)"
    )
    return done - begin, done_cpu - begin_cpu, result


def period_of(manifest: dict[str, object]) -> tuple[dt.date, dt.date]:
    """The last fiscal year with a full year of follow-up after it, and the data's end."""
    years = manifest["fiscal_years"]
    assert isinstance(years, list)
    if len(years) < 2:
        raise SystemExit("the simulation needs at least two fiscal years (use --years 2 or more)")
    end = dt.date.fromisoformat(str(manifest["end_date"]))
    return dt.date.fromisoformat(years[-2]["start"]), end


def write_generated(children: int, directory: Path) -> None:
    begin = time.perf_counter()
    tables = generate(children)
    for name, table in tables.items():
        pq.write_table(table, directory / f"{name}.parquet")
    rows = {name: t.num_rows for name, t in tables.items()}
    print(
        f"generated {children:,} children in {time.perf_counter() - begin:.1f} s: "
        + ", ".join(f"{k} {v:,}" for k, v in rows.items())
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SIMULATOR_SCALES, default="state")
    parser.add_argument("--years", type=int, default=3, help="simulated years after warm-up")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fresh", action="store_true", help="simulate again, ignore the cache")
    parser.add_argument("--input", type=Path, help="benchmark this table directory (Parquet)")
    parser.add_argument(
        "--generated", type=int, metavar="CHILDREN", help="use the NumPy generator instead"
    )
    parser.add_argument("--period-start", help="P's first day (default: see above)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="scan + indicators runs (median reported)"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    period_start = dt.date.fromisoformat(args.period_start) if args.period_start else None
    through: dt.date | None = None

    with tempfile.TemporaryDirectory(prefix="kinfolk-bench-") as scratch:
        if args.input is not None:
            directory = args.input
        elif args.generated is not None:
            directory = Path(scratch)
            write_generated(args.generated, directory)
            period_start = period_start or dt.date(2021, 10, 1)
        else:
            directory, manifest = simulated(
                args.scale, args.years, args.seed, Path(scratch), fresh=args.fresh
            )
            last_year, through = period_of(manifest)
            period_start = period_start or last_year
            print(
                f"input: simulator, {args.scale} scale, {manifest['children']:,} children, "
                f"{manifest['start_date']} to {manifest['end_date']}; P starts {period_start}"
            )
        if period_start is None:
            period_start = dt.date(2021, 10, 1)
        print(f"before: {load()} ({os.cpu_count()} cores)")
        # Scan and indicators alternate, so a slow spell of a shared machine falls on both;
        # the ratio is the median of the runs' ratios.
        scans: list[tuple[float, float, int]] = []
        runs: list[tuple[float, float]] = []
        for run in range(args.repeat):
            scans.append(raw_scan(directory))
            if run == 0:
                scan_peak = peak_mb()  # before any indicators ran in this process
            seconds, cpu, result = indicators(
                directory, period_start, through, detail=run == args.repeat - 1
            )
            runs.append((seconds, cpu))
        scan_rows = scans[0][2]
        scan_seconds, scan_cpu = (statistics.median(s[i] for s in scans) for i in (0, 1))
        seconds, cpu = (statistics.median(r[i] for r in runs) for i in (0, 1))
        each = f" (median of {args.repeat} runs)" if args.repeat > 1 else ""
        print(
            f"raw DuckDB scan   {scan_seconds:8.2f} s {scan_cpu:7.2f} s CPU  "
            f"{scan_rows:>12,} rows{each}, peak {scan_peak:.0f} MB"
        )
        print(
            f"seven indicators  {seconds:8.2f} s {cpu:7.2f} s CPU  {scan_rows:>12,} rows{each}, "
            f"peak {peak_mb():.0f} MB (process)"
        )
        wall = [r[0] / s[0] for r, s in zip(runs, scans, strict=True)]
        cpus = [r[1] / s[1] for r, s in zip(runs, scans, strict=True)]
        print(
            f"ratio indicators / raw scan: {statistics.median(wall):.1f}x "
            f"({statistics.median(cpus):.1f}x in CPU time)"
            + (
                f"; per run {', '.join(f'{w:.1f}x' for w in wall)} "
                f"({', '.join(f'{c:.1f}x' for c in cpus)} CPU)"
                if args.repeat > 1
                else ""
            )
        )
        print(f"after: {load()}")
        for name, entry in result["indicators"].items():  # type: ignore[attr-defined]
            print(
                f"  {name:24s} {entry['numerator']!s:>10} / {entry['denominator']!s:<12} "
                f"= {entry['value']}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
