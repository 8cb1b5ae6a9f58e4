"""The same seed gives the same bytes; another seed gives other data."""

from __future__ import annotations

from pathlib import Path

import pytest

from kinfolk.simulate.tests.conftest import simulate

FILES = (
    "children.parquet",
    "episodes.parquet",
    "placements.parquet",
    "reports.parquet",
    "persons.csv",
    "persons_truth.csv",
    "persons_links.csv",
    "households.csv",
    "relationships.csv",
    "simulation.json",
)


def test_same_seed_gives_identical_files(small_run: Path, tmp_path: Path) -> None:
    again = simulate(tmp_path / "again")
    for name in FILES:
        assert (small_run / name).read_bytes() == (again / name).read_bytes(), name


def test_worker_count_does_not_change_the_bytes(tmp_path: Path) -> None:
    # Two chunks (the chunk size is fixed), run by one and by two processes.
    one = simulate(tmp_path / "one", children=150_000, workers=1)
    two = simulate(tmp_path / "two", children=150_000, workers=2)
    for name in FILES:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name


def test_csv_output_is_deterministic_too(small_csv_run: Path, tmp_path: Path) -> None:
    again = simulate(tmp_path / "again", fmt="csv")
    for name in ("children.csv", "episodes.csv", "placements.csv", "reports.csv"):
        assert (small_csv_run / name).read_bytes() == (again / name).read_bytes(), name


@pytest.mark.parametrize(
    "name", ["reports.parquet", "episodes.parquet", "persons.csv", "relationships.csv"]
)
def test_another_seed_gives_other_data(small_run: Path, tmp_path: Path, name: str) -> None:
    other = simulate(tmp_path / "other", seed=12)
    assert (small_run / name).read_bytes() != (other / name).read_bytes()
