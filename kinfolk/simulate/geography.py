"""A synthetic geography: states → judicial circuits → counties → offices, with towns.

The shape is fixed by the scale alone (never by the run's seed), so two runs of the same scale
share county, office and circuit codes and can be compared. Codes look like the federal ones
(a two-digit state code and a three-digit county code, FIPS style) but name no real place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# USPS abbreviations with FIPS-style codes; weights are rough shares of the US child population
# (Census 2020, rounded), so big states get more counties, circuits and children.
STATES: tuple[tuple[str, str, float], ...] = (
    ("AL", "01", 1.5), ("AK", "02", 0.25), ("AZ", "04", 2.2), ("AR", "05", 0.95),
    ("CA", "06", 12.0), ("CO", "08", 1.7), ("CT", "09", 1.0), ("DE", "10", 0.28),
    ("DC", "11", 0.17), ("FL", "12", 5.9), ("GA", "13", 3.4), ("HI", "15", 0.41),
    ("ID", "16", 0.6), ("IL", "17", 3.9), ("IN", "18", 2.2), ("IA", "19", 1.0),
    ("KS", "20", 0.96), ("KY", "21", 1.4), ("LA", "22", 1.5), ("ME", "23", 0.34),
    ("MD", "24", 1.8), ("MA", "25", 1.9), ("MI", "26", 3.0), ("MN", "27", 1.8),
    ("MS", "28", 0.95), ("MO", "29", 1.9), ("MT", "30", 0.31), ("NE", "31", 0.65),
    ("NV", "32", 0.95), ("NH", "33", 0.34), ("NJ", "34", 2.7), ("NM", "35", 0.64),
    ("NY", "36", 5.5), ("NC", "37", 3.1), ("ND", "38", 0.24), ("OH", "39", 3.5),
    ("OK", "40", 1.3), ("OR", "41", 1.2), ("PA", "42", 3.7), ("RI", "44", 0.27),
    ("SC", "45", 1.5), ("SD", "46", 0.3), ("TN", "47", 2.1), ("TX", "48", 10.0),
    ("UT", "49", 1.2), ("VT", "50", 0.15), ("VA", "51", 2.5), ("WA", "53", 2.3),
    ("WV", "54", 0.48), ("WI", "55", 1.7), ("WY", "56", 0.18),
)  # fmt: skip

# Children at each scale (issue 5): a county, a state like Missouri, the nation.
SCALE_CHILDREN = {"county": 50_000, "state": 1_400_000, "nation": 73_000_000}

CITY_STEMS = (
    "Oak", "Cedar", "Maple", "Pine", "Elm", "Willow", "Spring", "Clear", "Fair", "Green",
    "Rock", "Red", "Silver", "Stone", "Mill", "Lake", "River", "Bright", "Glen", "Ash",
    "Birch", "Hazel", "Iron", "Marble", "Sun", "Wolf", "Bear", "Deer", "Fox", "Hill",
)  # fmt: skip
CITY_ENDS = (
    "ville", "ton", "field", "wood", "dale", "ford", "port", "burg", "view", "haven",
    " Springs", " City", " Falls", " Grove", " Park", " Heights",
)  # fmt: skip


@dataclass(frozen=True)
class Geography:
    """Counties as parallel arrays; offices and towns as flat arrays indexed from counties."""

    county_code: np.ndarray  # str, "SSCCC"
    county_state: np.ndarray  # str, USPS abbreviation
    county_circuit: np.ndarray  # str, "SS-Cnn"
    county_weight: np.ndarray  # float, sums to 1
    county_area_code: np.ndarray  # int
    county_postcode: np.ndarray  # int, first of the county's five-digit codes
    office_start: np.ndarray  # int, first office of each county
    office_count: np.ndarray  # int
    office_code: np.ndarray  # str, "SSCCC-nn"
    town_start: np.ndarray  # int, first town of each county
    town_count: np.ndarray  # int
    town_name: np.ndarray  # str

    @property
    def n_counties(self) -> int:
        return len(self.county_code)


def _state_counties(n_children: float) -> int:
    # About 23,000 children per county on average in the US (73 M over 3,143 counties).
    return int(np.clip(round(n_children / 23_000), 3, 254))


def build_geography(scale: str, children: int) -> Geography:
    """The geography of a scale; ``children`` sizes the offices."""
    rng = np.random.default_rng(20240101)  # fixed: geography depends on the scale only
    if scale == "county":
        plan = [("MO", "29", 1.0, 1, 1)]
    elif scale == "state":
        plan = [("MO", "29", 1.0, 115, 46)]
    else:
        total = sum(w for _, _, w in STATES)
        plan = []
        for abbr, code, weight in STATES:
            n = _state_counties(children * weight / total)
            plan.append((abbr, code, weight / total, n, max(1, round(n * 0.4))))
    codes: list[str] = []
    states: list[str] = []
    circuits: list[str] = []
    weights: list[float] = []
    for abbr, code, share, n_counties, n_circuits in plan:
        # Zipf-like county sizes: a few metropolitan counties, many small rural ones.
        sizes = 1.0 / np.arange(1, n_counties + 1) ** 0.9
        sizes = sizes[rng.permutation(n_counties)]
        sizes = sizes / sizes.sum() * share
        for i in range(n_counties):
            codes.append(f"{code}{2 * i + 1:03d}")
            states.append(abbr)
            circuits.append(f"{code}-C{i * n_circuits // n_counties + 1:02d}")
            weights.append(float(sizes[i]))
    county_w = np.asarray(weights)
    county_w = county_w / county_w.sum()
    county_children = county_w * children
    office_count = np.clip(1 + county_children // 40_000, 1, 12).astype(np.int64)
    if scale == "county":
        office_count[:] = 3
    office_start = np.concatenate([[0], np.cumsum(office_count)[:-1]])
    office_code = np.array(
        [f"{c}-{k + 1:02d}" for c, n in zip(codes, office_count, strict=True) for k in range(n)]
    )
    town_count = office_count + 2
    town_start = np.concatenate([[0], np.cumsum(town_count)[:-1]])
    n_towns = int(town_count.sum())
    stems = rng.integers(0, len(CITY_STEMS), n_towns)
    ends = rng.integers(0, len(CITY_ENDS), n_towns)
    town_name = np.array([CITY_STEMS[s] + CITY_ENDS[e] for s, e in zip(stems, ends, strict=True)])
    n = len(codes)
    return Geography(
        county_code=np.array(codes),
        county_state=np.array(states),
        county_circuit=np.array(circuits),
        county_weight=county_w,
        county_area_code=rng.integers(201, 990, n),
        county_postcode=10_000 + (np.arange(n) * 29) % 89_000,
        office_start=office_start,
        office_count=office_count,
        office_code=office_code,
        town_start=town_start,
        town_count=town_count,
        town_name=town_name,
    )
