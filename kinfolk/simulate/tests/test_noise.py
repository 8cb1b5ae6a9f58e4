"""Identity noise appears at the rates the parameters ask for, and nowhere else."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from kinfolk.simulate.geography import build_geography
from kinfolk.simulate.identity import PersonsChunk, person_tables, typo
from kinfolk.simulate.model import Window, households_for, simulate_chunk
from kinfolk.simulate.params import load_params


@pytest.fixture(scope="module")
def persons() -> PersonsChunk:
    params = load_params()
    geo = build_geography("county", 50_000)
    window = Window.from_start(params.day("start_date"), 5)
    households = households_for(50_000, window, params)
    events = simulate_chunk(params, geo, window, 5, 0, households)
    return person_tables(events, geo, params, 5, window)


def test_each_kind_of_noise_is_within_tolerance_of_its_parameter(persons: PersonsChunk) -> None:
    params = load_params()
    for name, applied in persons.applied.items():
        if name not in persons.eligible:
            continue
        eligible = persons.eligible[name]
        n = int(eligible.sum())
        assert n > 500, name
        p = params.num(f"noise.{name}")
        observed = applied[eligible].mean()
        # Five binomial standard errors: never flaky, still catches a wrong rate.
        tolerance = 5 * np.sqrt(p * (1 - p) / n) + 1e-9
        assert abs(observed - p) <= tolerance, (name, observed, p)
        assert not applied[~eligible].any(), name


def test_most_children_have_no_ssn(persons: PersonsChunk) -> None:
    ssn = np.asarray(persons.persons["ssn"].to_numpy(zero_copy_only=False), dtype=object)
    ids = np.asarray(persons.truth["person_id"].to_numpy(zero_copy_only=False), dtype=object)
    is_child = np.char.startswith(ids.astype(str), "C")
    assert (ssn[is_child] == "").mean() == pytest.approx(0.85, abs=0.03)
    assert (ssn[~is_child] == "").mean() == pytest.approx(0.45, abs=0.03)


def test_typos_change_one_character_and_keep_the_initial() -> None:
    rng = np.random.default_rng(1)
    names = np.array(["Elizabeth", "Robert", "Jo", "Maria", "Christopher"] * 200)
    changed = typo(rng, names)
    assert (np.char.str_len(changed) - np.char.str_len(names) <= 1).all()
    long_enough = np.char.str_len(names) >= 3
    assert (changed[~long_enough] == names[~long_enough]).all()
    assert np.array([a[0] == b[0] for a, b in zip(changed, names, strict=True)]).all()
    assert (changed[long_enough] != names[long_enough]).mean() > 0.85


def test_same_person_appears_several_times_with_differences(small_run: Path) -> None:
    with (small_run / "persons.csv").open(newline="", encoding="utf-8") as handle:
        records = {row["record_id"]: row for row in csv.DictReader(handle)}
    with (small_run / "persons_truth.csv").open(newline="", encoding="utf-8") as handle:
        by_person: dict[str, list[str]] = defaultdict(list)
        for row in csv.DictReader(handle):
            by_person[row["person_id"]].append(row["record_id"])
    repeated = [ids for ids in by_person.values() if len(ids) > 1]
    assert len(repeated) > 100
    differing = sum(
        len({(records[i]["first_name"], records[i]["last_name"], records[i]["date_of_birth"],
              records[i]["street"]) for i in ids}) > 1
        for ids in repeated
    )  # fmt: skip
    assert differing > 0.2 * len(repeated)


def test_siblings_and_twins_are_hard_negatives(small_run: Path) -> None:
    """Different people share a surname and an address; some share a date of birth too."""
    with (small_run / "persons.csv").open(newline="", encoding="utf-8") as handle:
        records = {row["record_id"]: row for row in csv.DictReader(handle)}
    with (small_run / "persons_truth.csv").open(newline="", encoding="utf-8") as handle:
        truth = {row["record_id"]: row["person_id"] for row in csv.DictReader(handle)}
    groups: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for rid, row in records.items():
        if row["street"] and row["date_of_birth"]:
            groups[(row["last_name"], row["street"], row["date_of_birth"])].add(truth[rid])
    assert any(len(people) > 1 for people in groups.values()), "no twins found"
