"""The histories are possible ones: the invariants every real system keeps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from kinfolk.federal.tables import read_tables


def _days(column: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(column.cast(pa.int32()), -1).to_numpy(), dtype=np.int64)


def _ids(column: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(column.to_numpy(), dtype=object).astype(str)


@pytest.fixture(scope="module")
def tables(small_run: Path) -> dict[str, pa.Table]:
    return read_tables(small_run)


def test_episodes_of_a_child_never_overlap(tables: dict[str, pa.Table]) -> None:
    epi = tables["episodes"]
    child, rem, dis = (
        _ids(epi["child_id"]),
        _days(epi["removal_date"]),
        _days(epi["discharge_date"]),
    )
    order = np.lexsort((rem, child))
    child, rem, dis = child[order], rem[order], dis[order]
    same = child[1:] == child[:-1]
    # The earlier episode is closed, and the next removal comes after its discharge.
    assert (dis[:-1][same] >= 0).all()
    assert (rem[1:][same] > dis[:-1][same]).all()
    assert same.any(), "expected some re-entries"


def test_discharge_comes_after_removal(tables: dict[str, pa.Table]) -> None:
    epi = tables["episodes"]
    rem, dis = _days(epi["removal_date"]), _days(epi["discharge_date"])
    reason = np.asarray(pc.fill_null(epi["discharge_reason"], 0).to_numpy())
    closed = dis >= 0
    assert (dis[closed] > rem[closed]).all()
    assert ((reason > 0) == closed).all()
    assert (~closed).any(), "expected children still in care at the end"


def test_placements_lie_inside_their_episode_and_follow_each_other(
    tables: dict[str, pa.Table],
) -> None:
    epi, plc = tables["episodes"], tables["placements"]
    key = {
        (c, r): d
        for c, r, d in zip(
            _ids(epi["child_id"]),
            _days(epi["removal_date"]),
            _days(epi["discharge_date"]),
            strict=True,
        )
    }
    child, rem = _ids(plc["child_id"]), _days(plc["removal_date"])
    start, end = _days(plc["start_date"]), _days(plc["end_date"])
    for c, r, s, e in zip(child, rem, start, end, strict=True):
        discharge = key[(c, r)]
        assert s >= r
        if e >= 0:
            assert s <= e
            assert discharge < 0 or e <= discharge
        else:
            assert discharge < 0, "only the current placement of a child in care is open"
    order = np.lexsort((start, rem, child))
    child, rem, start, end = child[order], rem[order], start[order], end[order]
    same = (child[1:] == child[:-1]) & (rem[1:] == rem[:-1])
    # Inside an episode the last day in a setting is the day before the next start.
    assert (end[:-1][same] == start[1:][same] - 1).all()
    first = np.ones(len(child), dtype=bool)
    first[1:] = ~same
    assert (start[first] == rem[first]).all()
    # Every episode has placements.
    assert len({(c, r) for c, r in zip(child, rem, strict=True)}) == len(key)


def test_reports_come_after_birth_and_before_adulthood(tables: dict[str, pa.Table]) -> None:
    children, rep = tables["children"], tables["reports"]
    dob = dict(zip(_ids(children["child_id"]), _days(children["date_of_birth"]), strict=True))
    child = _ids(rep["child_id"])
    day, incident = _days(rep["report_date"]), _days(rep["incident_date"])
    born = np.array([dob[c] for c in child])
    assert (day >= born).all()
    assert (day < born + 18 * 366).all()
    has = incident >= 0
    assert (incident[has] <= day[has]).all()
    assert (incident[has] >= born[has]).all()


def test_every_child_in_reports_and_episodes_is_in_children(tables: dict[str, pa.Table]) -> None:
    known = set(_ids(tables["children"]["child_id"]))
    assert set(_ids(tables["reports"]["child_id"])) <= known
    assert set(_ids(tables["episodes"]["child_id"])) <= known
    assert len(known) == tables["children"].num_rows


def test_a_first_removal_follows_a_report_within_30_days(tables: dict[str, pa.Table]) -> None:
    rep, epi = tables["reports"], tables["episodes"]
    reported: dict[str, list[int]] = {}
    for c, d in zip(_ids(rep["child_id"]), _days(rep["report_date"]), strict=True):
        reported.setdefault(c, []).append(d)
    first: dict[str, int] = {}
    for c, r in zip(_ids(epi["child_id"]), _days(epi["removal_date"]), strict=True):
        first[c] = min(r, first.get(c, r))
    for c, r in first.items():
        assert any(0 <= r - d <= 30 for d in reported[c]), c


def test_the_placement_file_has_every_kind_of_row(tables: dict[str, pa.Table]) -> None:
    plc = tables["placements"]
    settings = set(np.asarray(plc["setting"].to_numpy()).tolist())
    assert {1, 2, 3, 8} <= settings
    assert pc.sum(plc["temporary"]).as_py() > 0
