"""Shared simulated directories: small runs, made once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from kinfolk.simulate.output import RunConfig, run

# Small enough for a quick suite, large enough to contain every kind of event.
SMALL_CHILDREN = 12_000


def simulate(directory: Path, *, seed: int = 11, fmt: str = "parquet", **kwargs: object) -> Path:
    config = RunConfig(
        scale="county",
        years=2,
        seed=seed,
        output=directory,
        fmt=fmt,
        children=int(kwargs.pop("children", SMALL_CHILDREN)),  # type: ignore[call-overload]
        **kwargs,  # type: ignore[arg-type]
    )
    run(config)
    return directory


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulate(tmp_path_factory.mktemp("small"))


@pytest.fixture(scope="session")
def small_csv_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return simulate(tmp_path_factory.mktemp("small_csv"), fmt="csv")
