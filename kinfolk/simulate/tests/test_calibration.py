"""The model reproduces the published national figures it was calibrated to.

The report-based rates are checked on a county (50,000 children). The foster-care cohorts of a
county are a few hundred children a year, too few for CFSR-like rates to be stable, so those are
checked on a larger population with the same county geography (500,000 children). Tolerances
are wide enough for sampling noise (checked over several seeds: the worst seed used under two
thirds of each tolerance) and narrow enough that a broken model (a rate off by half) fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kinfolk.simulate.check import Rate, headline_rates
from kinfolk.simulate.tests.conftest import simulate

# measure -> allowed relative error, at county scale
COUNTY_TOLERANCE = {
    "referrals_per_1000": 0.10,
    "screen_in_rate": 0.05,
    "children_response_per_1000": 0.15,
    "victims_per_1000": 0.20,
    "entries_per_1000": 0.25,
}
# measure -> allowed relative error, on 500,000 children
TOLERANCE = {
    **COUNTY_TOLERANCE,
    "median_months_in_care_at_exit": 0.30,
    "exit_reunification": 0.20,
    "exit_adoption": 0.45,
    "exit_guardianship": 0.45,
    "permanency_12_entries": 0.25,
    "reentry_12": 0.60,
    "placement_stability": 0.25,
    "recurrence": 0.45,
    "maltreatment_in_care": 0.70,
}


def _rates(directory: Path) -> dict[str, Rate]:
    return {rate.name: rate for rate in headline_rates(directory)}


@pytest.fixture(scope="module")
def county_rates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rate]:
    return _rates(simulate(tmp_path_factory.mktemp("county"), seed=2024, children=50_000))


@pytest.fixture(scope="module")
def large_rates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rate]:
    return _rates(simulate(tmp_path_factory.mktemp("large"), seed=2024, children=500_000))


def _near(rate: Rate, tolerance: float) -> None:
    assert rate.value is not None and rate.target
    assert rate.value == pytest.approx(rate.target, rel=tolerance), (
        f"{rate.name}: simulated {rate.value:.2f}, target {rate.target:.2f}"
    )


@pytest.mark.parametrize("measure", sorted(COUNTY_TOLERANCE))
def test_a_county_lands_near_the_national_report_rates(
    county_rates: dict[str, Rate], measure: str
) -> None:
    _near(county_rates[measure], COUNTY_TOLERANCE[measure])


@pytest.mark.parametrize("measure", sorted(TOLERANCE))
def test_a_larger_population_lands_near_every_national_figure(
    large_rates: dict[str, Rate], measure: str
) -> None:
    _near(large_rates[measure], TOLERANCE[measure])


def test_a_broken_model_fails_the_calibration(tmp_path: Path) -> None:
    """The tolerances have teeth: halving substantiation moves victims out of range."""
    from kinfolk.simulate.params import load_params

    params = load_params()
    broken = params.with_values(reports__substantiation=params.num("reports.substantiation") / 2)
    rates = _rates(simulate(tmp_path, seed=2024, children=50_000, params=broken))
    victims = rates["victims_per_1000"]
    assert victims.value is not None and victims.target
    assert abs(victims.value / victims.target - 1) > COUNTY_TOLERANCE["victims_per_1000"]
