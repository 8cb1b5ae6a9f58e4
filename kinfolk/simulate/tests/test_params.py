"""A parameter file without sources or with impossible rates is refused, by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kinfolk.simulate.params import DEFAULT_PATH, ParamError, load_params, parse_params


def _document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    return document


def test_the_bundled_parameters_are_valid_and_all_cited() -> None:
    params = load_params()
    assert all(source.strip() for source in params.sources.values())
    assert params.num("reports.screen_in_rate") == pytest.approx(0.495)


def test_a_figure_without_source_is_refused() -> None:
    document = _document()
    del document["reports"]["screen_in_rate"]["source"]
    with pytest.raises(ParamError, match=r"reports\.screen_in_rate: missing source"):
        parse_params(document)


def test_a_rate_outside_zero_one_is_refused() -> None:
    document = _document()
    document["removal"]["victim"]["value"] = 1.5
    with pytest.raises(ParamError, match=r"removal\.victim: 1\.5 is a rate outside \[0, 1\]"):
        parse_params(document)


def test_a_distribution_must_sum_to_one() -> None:
    document = _document()
    document["episodes"]["exit_reason"]["value"] = [0.5, 0.5, 0.5, 0, 0, 0, 0]
    with pytest.raises(ParamError, match=r"episodes\.exit_reason: probabilities sum to"):
        parse_params(document)


def test_a_missing_or_unknown_parameter_is_refused() -> None:
    document = _document()
    del document["noise"]["junior"]
    with pytest.raises(ParamError, match=r"noise\.junior: missing parameter"):
        parse_params(document)
    document = _document()
    document["noise"]["cosmic_rays"] = {"value": 0.1, "source": "none"}
    with pytest.raises(ParamError, match=r"noise\.cosmic_rays: unknown parameter"):
        parse_params(document)


def test_a_file_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("reports: [unclosed\n", encoding="utf-8")
    with pytest.raises(ParamError, match="not valid YAML"):
        load_params(bad)
