"""`kinfolk simulate`: clear errors and nothing written on bad input; a working run and check."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kinfolk.cli import main
from kinfolk.simulate.params import DEFAULT_PATH


def _run(*args: str) -> list[str]:
    return ["simulate", "run", *args]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scale", "city", "--years", "1", "--seed", "1"], "unknown scale 'city'"),
        (["--scale", "county", "--years", "-2", "--seed", "1"], "--years must be a positive"),
        (["--scale", "county", "--years", "0", "--seed", "1"], "--years must be a positive"),
        (["--scale", "county", "--years", "1", "--seed", "1", "--format", "xls"], "unknown format"),
        (["--scale", "county", "--years", "1", "--seed", "-5"], "--seed must be 0 or more"),
    ],
)
def test_bad_arguments_are_refused_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    out = tmp_path / "out"
    assert main(_run(*args, "--output", str(out))) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_a_non_empty_directory_needs_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    args = _run("--scale", "county", "--years", "1", "--seed", "1", "--output", str(tmp_path))
    assert main(args) == 2
    assert "not empty; use --force" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["reports"]["substantiation"].pop("source"), "missing source"),
        (lambda d: d["reports"]["substantiation"].update(value=-0.1), "outside [0, 1]"),
    ],
)
def test_a_malformed_parameter_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: object, message: str
) -> None:
    document = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    edit(document)  # type: ignore[operator]
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(document), encoding="utf-8")
    out = tmp_path / "out"
    args = _run("--scale", "county", "--years", "1", "--seed", "1", "--output", str(out))
    assert main([*args, "--params", str(params)]) == 2
    err = capsys.readouterr().err
    assert "bad parameter file" in err and message in err and "reports.substantiation" in err
    assert not out.exists()


def test_run_then_check_prints_rates_beside_targets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "county"
    args = _run("--scale", "county", "--years", "1", "--seed", "3", "--output", str(out))
    assert main(args) == 0
    assert "written to" in capsys.readouterr().out
    assert main(["simulate", "check", str(out)]) == 0
    printed = capsys.readouterr().out
    measures = ("referrals_per_1000", "screen_in_rate", "victims_per_1000", "entries_per_1000",
                "median_months_in_care_at_exit", "exit_adoption")  # fmt: skip
    for measure in measures:
        assert measure in printed
    assert "CM2022" in printed
    # --force overwrites.
    assert main([*args, "--force"]) == 0


def test_check_refuses_a_directory_that_is_not_a_simulation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", "check", str(tmp_path)]) == 2
    assert "not a simulator output" in capsys.readouterr().err
