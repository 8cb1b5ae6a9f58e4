"""``kinfolk match dedupe|link``: the formats the benchmark relies on, and bad input."""

import csv
from pathlib import Path

import pytest

from kinfolk.cli import main
from kinfolk.matching.records import CSV_FIELDS, iter_rows
from kinfolk.matching.tests.crafted import BOY, BOY_AGAIN, CRAFTED, TWIN_A, TWIN_B


def write(path: Path, rows: list[list[str]], header: list[str] | None = None) -> Path:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header if header is not None else list(CSV_FIELDS))
        writer.writerows(rows)
    return path


def read(path: Path) -> list[list[str]]:
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def test_dedupe_writes_every_record_once_with_its_cluster(tmp_path: Path) -> None:
    persons = write(tmp_path / "persons.csv", list(iter_rows(CRAFTED)))
    out, pairs, review = tmp_path / "clusters.csv", tmp_path / "pairs.csv", tmp_path / "r.csv"
    args = ["--input", str(persons), "--output", str(out), "--pairs", str(pairs)]
    status = main(["match", "dedupe", *args, "--review", str(review)])
    assert status == 0
    rows = read(out)
    assert rows[0] == ["record_id", "cluster_id"]
    cluster = dict(rows[1:])
    assert list(cluster) == [r.record_id for r in CRAFTED]
    assert cluster[BOY.record_id] == cluster[BOY_AGAIN.record_id]
    assert cluster[TWIN_A.record_id] != cluster[TWIN_B.record_id]
    pair_rows = read(pairs)
    assert pair_rows[0] == ["left_record_id", "right_record_id", "match_probability"]
    assert [BOY.record_id, BOY_AGAIN.record_id] in [row[:2] for row in pair_rows[1:]]
    review_rows = read(review)
    assert [TWIN_A.record_id, TWIN_B.record_id] in [row[:2] for row in review_rows[1:]]


def test_link_writes_only_matching_pairs(tmp_path: Path) -> None:
    left = write(tmp_path / "a.csv", list(iter_rows([BOY, TWIN_A])))
    right = write(tmp_path / "b.csv", list(iter_rows([BOY_AGAIN, TWIN_B])))
    out = tmp_path / "links.csv"
    assert (
        main(["match", "link", "--left", str(left), "--right", str(right), "--output", str(out)])
        == 0
    )
    rows = read(out)
    assert rows[0] == ["left_record_id", "right_record_id", "match_probability"]
    assert [row[:2] for row in rows[1:]] == [[BOY.record_id, BOY_AGAIN.record_id]]
    assert 0.5 <= float(rows[1][2]) <= 1.0


def run_bad(tmp_path: Path, capsys: pytest.CaptureFixture[str], path: Path) -> str:
    status = main(["match", "dedupe", "--input", str(path), "--output", str(tmp_path / "out.csv")])
    assert status == 2
    assert not (tmp_path / "out.csv").exists()
    return capsys.readouterr().err


def test_a_missing_header_column_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = [c for c in CSV_FIELDS if c != "date_of_birth"]
    err = run_bad(tmp_path, capsys, write(tmp_path / "p.csv", [], header))
    assert "line 1" in err and "date_of_birth" in err


def test_a_duplicate_record_id_names_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = list(iter_rows([BOY, TWIN_A]))
    rows.append(rows[0])
    err = run_bad(tmp_path, capsys, write(tmp_path / "p.csv", rows))
    assert "line 4" in err and "duplicate record_id" in err


def test_an_unparseable_date_names_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = list(iter_rows([BOY, TWIN_A]))
    rows[1][4] = "2019-02-30"
    err = run_bad(tmp_path, capsys, write(tmp_path / "p.csv", rows))
    assert "line 3" in err and "date_of_birth" in err


def test_an_empty_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.csv"
    path.write_text("")
    assert "line 1" in run_bad(tmp_path, capsys, path)
