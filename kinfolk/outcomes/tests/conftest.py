"""Shared fixtures: one DuckDB connection for the whole test session."""

from __future__ import annotations

from typing import Any

import pytest

from kinfolk.outcomes.compute import connect


@pytest.fixture(scope="session")
def duckdb_con() -> Any:
    return connect("duckdb")
