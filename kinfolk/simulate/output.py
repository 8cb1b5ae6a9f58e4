"""Running a simulation: chunk plan, parallel workers, streamed writers, the run manifest.

Output is written chunk by chunk, in chunk order, so memory stays bounded by a few chunks at any
scale and the bytes do not depend on how many workers ran. Parquet files are written with fixed
options (no timestamps are stored; the writer's version string is constant for a pinned
pyarrow), and every chunk is one row group.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from kinfolk.federal.tables import ARROW_SCHEMAS, TABLE_NAMES
from kinfolk.simulate.geography import SCALE_CHILDREN, Geography, build_geography
from kinfolk.simulate.identity import (
    HOUSEHOLDS_COLUMNS,
    LINKS_COLUMNS,
    PERSONS_COLUMNS,
    RELATIONSHIPS_COLUMNS,
    person_tables,
)
from kinfolk.simulate.model import Window, chunk_tables, households_for, simulate_chunk
from kinfolk.simulate.params import Params, load_params

CHUNK_HOUSEHOLDS = 100_000
MANIFEST = "simulation.json"
PERSONS = "persons.csv"
TRUTH = "persons_truth.csv"
LINKS = "persons_links.csv"
HOUSEHOLDS = "households.csv"
RELATIONSHIPS = "relationships.csv"
# Files beside the four federal tables, by the writer's table name.
SIDE_FILES = {
    "persons": PERSONS,
    "truth": TRUTH,
    "links": LINKS,
    "households": HOUSEHOLDS,
    "relationships": RELATIONSHIPS,
}
SIDE_COLUMNS = {
    "persons": PERSONS_COLUMNS,
    "truth": ("record_id", "person_id"),
    "links": LINKS_COLUMNS,
    "households": HOUSEHOLDS_COLUMNS,
    "relationships": RELATIONSHIPS_COLUMNS,
}
FORMATS = ("parquet", "csv")


class SimulationError(ValueError):
    """A request the simulator refuses before writing anything."""


@dataclass(frozen=True)
class RunConfig:
    scale: str
    years: int
    seed: int
    output: Path
    fmt: str = "parquet"
    force: bool = False
    children: int | None = None  # overrides the scale's child population (tests, benches)
    params: Params | None = None
    workers: int = 1
    progress: bool = False


@dataclass(frozen=True)
class Plan:
    params: Params
    geo: Geography
    window: Window
    households: int
    chunks: tuple[tuple[int, int], ...]  # (chunk number, households)
    children: int
    first_year: int  # index of the first requested (post-warm-up) year


def make_plan(config: RunConfig) -> Plan:
    if config.scale not in SCALE_CHILDREN:
        raise SimulationError(
            f"unknown scale {config.scale!r}; choose one of {', '.join(SCALE_CHILDREN)}"
        )
    if config.years < 1:
        raise SimulationError(f"--years must be 1 or more, got {config.years}")
    if config.fmt not in FORMATS:
        raise SimulationError(f"unknown format {config.fmt!r}; choose parquet or csv")
    if config.seed < 0:
        raise SimulationError(f"--seed must be 0 or more, got {config.seed}")
    params = config.params if config.params is not None else load_params()
    children = config.children or SCALE_CHILDREN[config.scale]
    warmup = params.count("warmup_years")
    window = Window.from_start(params.day("start_date"), warmup + config.years)
    households = households_for(children, window, params)
    chunks = []
    done = 0
    number = 0
    while done < households:
        size = min(CHUNK_HOUSEHOLDS, households - done)
        chunks.append((number, size))
        done += size
        number += 1
    return Plan(
        params=params,
        geo=build_geography(config.scale, children),
        window=window,
        households=households,
        chunks=tuple(chunks),
        children=children,
        first_year=warmup,
    )


def check_output_dir(path: Path, force: bool) -> None:
    if path.exists() and not path.is_dir():
        raise SimulationError(f"{path} exists and is not a directory")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise SimulationError(f"{path} is not empty; use --force to overwrite its files")


def _run_chunk(
    params: Params, geo: Geography, window: Window, seed: int, chunk: int, size: int
) -> tuple[dict[str, pa.Table], dict[str, list[int]]]:
    events = simulate_chunk(params, geo, window, seed, chunk, size)
    tables = chunk_tables(events, geo)
    persons = person_tables(events, geo, params, seed, window)
    tables["persons"] = persons.persons
    tables["truth"] = persons.truth
    tables["links"] = persons.links
    tables["households"] = persons.households
    tables["relationships"] = persons.relationships
    return tables, events.stats


class _Writers:
    """One streaming writer per output file; created lazily, closed in order."""

    def __init__(self, directory: Path, fmt: str) -> None:
        self.directory = directory
        self.fmt = fmt
        self.parquet: dict[str, pq.ParquetWriter] = {}
        self.csv: dict[str, pacsv.CSVWriter] = {}
        self.files: list[Any] = []
        self.rows: dict[str, int] = {}

    def paths(self) -> list[Path]:
        names = [f"{name}.{self.fmt}" for name in TABLE_NAMES] + [*SIDE_FILES.values(), MANIFEST]
        return [self.directory / name for name in names]

    def write(self, name: str, table: pa.Table) -> None:
        self.rows[name] = self.rows.get(name, 0) + table.num_rows
        if name in ARROW_SCHEMAS:
            table = table.select(ARROW_SCHEMAS[name].names).cast(ARROW_SCHEMAS[name])
        if name in ARROW_SCHEMAS and self.fmt == "parquet":
            if name not in self.parquet:
                self.parquet[name] = pq.ParquetWriter(
                    self.directory / f"{name}.parquet",
                    ARROW_SCHEMAS[name],
                    compression="zstd",
                    write_statistics=True,
                )
            self.parquet[name].write_table(table, row_group_size=max(1, table.num_rows))
            return
        file = SIDE_FILES.get(name, f"{name}.csv")
        if name not in self.csv:
            # Arrow quotes header names; the persons header must read exactly as specified.
            sink = open(self.directory / file, "wb")  # noqa: SIM115 - closed in close()
            self.files.append(sink)
            sink.write((",".join(table.schema.names) + "\n").encode())
            self.csv[name] = pacsv.CSVWriter(
                sink,
                table.schema,
                write_options=pacsv.WriteOptions(include_header=False, quoting_style="none"),
            )
        self.csv[name].write_table(table)

    def close(self) -> None:
        for parquet_writer in self.parquet.values():
            parquet_writer.close()
        for csv_writer in self.csv.values():
            csv_writer.close()
        for sink in self.files:
            sink.close()
        self.parquet, self.csv, self.files = {}, {}, []


def _chunk_results(
    plan: Plan, seed: int, workers: int
) -> Iterator[tuple[dict[str, pa.Table], dict[str, list[int]]]]:
    args = (plan.params, plan.geo, plan.window, seed)
    if workers <= 1 or len(plan.chunks) == 1:
        for number, size in plan.chunks:
            yield _run_chunk(*args, number, size)
        return
    # A bounded window of futures keeps memory flat: results are consumed in chunk order.
    ahead = 2 * workers
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: list[Future[tuple[dict[str, pa.Table], dict[str, list[int]]]]] = []
        queue = list(plan.chunks)
        while queue or pending:
            while queue and len(pending) < ahead:
                number, size = queue.pop(0)
                pending.append(pool.submit(_run_chunk, *args, number, size))
            yield pending.pop(0).result()


def _empty_table(name: str) -> pa.Table:
    if name in ARROW_SCHEMAS:
        return ARROW_SCHEMAS[name].empty_table()
    types = {"caregivers": pa.int64(), "children": pa.int64()}
    return pa.schema([(c, types.get(c, pa.string())) for c in SIDE_COLUMNS[name]]).empty_table()


def run(config: RunConfig) -> dict[str, Any]:
    """Simulate and write the table directory; returns the manifest."""
    plan = make_plan(config)
    check_output_dir(config.output, config.force)
    config.output.mkdir(parents=True, exist_ok=True)
    writers = _Writers(config.output, config.fmt)
    for path in writers.paths():
        if path.exists():
            path.unlink()
    referrals = [0] * (len(plan.window.bounds) - 1)
    screened_in = [0] * len(referrals)
    child_days = [0] * len(referrals)
    progress = None
    if config.progress:
        from tqdm import tqdm

        progress = tqdm(total=len(plan.chunks), unit="chunk", desc="simulate", leave=False)
    try:
        for tables, stats in _chunk_results(plan, config.seed, config.workers):
            for name, table in tables.items():
                writers.write(name, table)
            for totals, key in ((referrals, "referrals"), (screened_in, "screened_in"),
                                (child_days, "child_days")):  # fmt: skip
                for i, value in enumerate(stats[key]):
                    totals[i] += value
            if progress is not None:
                progress.update(1)
        for name in (*TABLE_NAMES, *SIDE_FILES):
            if name not in writers.rows:
                writers.write(name, _empty_table(name))
        writers.close()
    except BaseException:
        writers.close()
        for path in writers.paths():
            if path.exists():
                path.unlink()
        raise
    finally:
        if progress is not None:
            progress.close()
    bounds = plan.window.bounds
    manifest: dict[str, Any] = {
        "generator": "kinfolk.simulate",
        "scale": config.scale,
        "children": plan.children,
        "households": plan.households,
        "chunks": len(plan.chunks),
        "seed": config.seed,
        "years": config.years,
        "warmup_years": plan.first_year,
        "start_date": _iso(bounds[0]),
        "end_date": _iso(bounds[-1] - 1),
        "format": config.fmt,
        "params_sha256": _params_digest(plan.params),
        "rows": {
            name: writers.rows.get(name, 0)
            for name in (*TABLE_NAMES, "persons", "households", "relationships")
        },
        "fiscal_years": [
            {
                "start": _iso(bounds[i]),
                "end": _iso(bounds[i + 1] - 1),
                "warmup": i < plan.first_year,
                "child_days": child_days[i],
                "referrals": referrals[i],
                "screened_in": screened_in[i],
            }
            for i in range(len(referrals))
        ],
    }
    (config.output / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _iso(day: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()


def _params_digest(params: Params) -> str:
    text = json.dumps({k: params.values[k] for k in sorted(params.values)}, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))
