"""Fellegi–Sunter: EM learns sensible m/u without labels; explanations add up."""

import math

import numpy as np
import pytest

from kinfolk.matching.blocking import candidate_pairs
from kinfolk.matching.compare import FIELD_INDEX
from kinfolk.matching.model import (
    GUARD,
    MatchModel,
    comparison_matrix,
    estimate_u,
    probability_from_weight,
    train,
)
from kinfolk.matching.normalize import normalize
from kinfolk.matching.pipeline import score_pair
from kinfolk.matching.records import PersonRecord
from kinfolk.matching.synthetic import corrupt, population


@pytest.fixture(scope="module")
def generated() -> tuple[list[PersonRecord], set[tuple[str, str]]]:
    rng = np.random.default_rng(11)
    people = population(3000, seed=5)
    copies = [corrupt(p, rng, record_id=f"{p.record_id}-copy") for p in people[:1000]]
    truth = {(p.record_id, f"{p.record_id}-copy") for p in people[:1000]}
    return people + copies, truth


def test_em_converges_to_sensible_m_and_u(generated: tuple) -> None:
    records, truth = generated
    norm = [normalize(r) for r in records]
    left, right = candidate_pairs(norm)
    gamma = comparison_matrix(norm, norm, left, right)
    u = estimate_u(norm)
    n = len(norm)
    model, report = train(gamma, u, n * (n - 1) / 2)
    assert report.converged
    true_in_blocks = sum(
        1
        for i, j in zip(left.tolist(), right.tolist(), strict=True)
        if tuple(sorted((records[i].record_id, records[j].record_id))) in truth
    )
    assert report.blocked_match_rate == pytest.approx(true_in_blocks / len(left), abs=0.05)
    assert model.prior == pytest.approx(len(truth) / (n * (n - 1) / 2), rel=0.2)
    dob = FIELD_INDEX["date_of_birth"]
    first = FIELD_INDEX["first_name"]
    # The generator changes the birth date in about a third of copies, a typo or nickname
    # in the first name in about half: m should say so, u should make agreement rare.
    assert 0.55 < model.m[dob][0] < 0.85
    assert model.m[first][0] > 0.4
    assert model.u[dob][0] < 0.001
    assert model.u[first][0] < 0.05
    for levels in model.m:
        assert sum(levels) == pytest.approx(1.0)


def test_explanation_sums_to_the_score() -> None:
    a = PersonRecord("a", "William", "", "Okafor", None, "M", "", "12 Main St", "Dover", "", "")
    b = PersonRecord("b", "Bill", "", "Okafr", None, "M", "", "12 Main Street", "Dover", "", "")
    score = score_pair(a, b)
    total = score.prior_weight + sum(c.weight for c in score.contributions)
    assert total == pytest.approx(score.match_weight)
    assert score.probability == pytest.approx(probability_from_weight(score.match_weight))
    assert score.weights["first_name"] > 0
    assert any("nickname" in line for line in score.explain())


def test_fast_weight_equals_explained_weight(generated: tuple) -> None:
    records, _ = generated
    model = MatchModel.default()
    norm = [normalize(r) for r in records[:200]]
    for a, b in zip(norm, norm[1:], strict=False):
        from kinfolk.matching.compare import compare

        levels = compare(a, b)
        assert model.match_weight(levels, a, b) == pytest.approx(
            model.score_levels(levels, a, b).match_weight
        )


def test_twins_get_the_sibling_guard() -> None:
    import datetime as dt

    born = dt.date(2019, 5, 4)
    a = PersonRecord("a", "Amara", "", "Okafor", born, "F", "", "12 Main St", "Dover", "", "")
    b = PersonRecord("b", "Chidi", "", "Okafor", born, "M", "", "12 Main St", "Dover", "", "")
    score = score_pair(a, b)
    assert GUARD in score.weights
    assert score.probability < 0.01


def test_probability_is_the_logistic_of_the_weight() -> None:
    assert probability_from_weight(0.0) == 0.5
    assert probability_from_weight(math.log2(3)) == pytest.approx(0.75)


def test_bulk_weights_equal_pair_by_pair_weights(generated: tuple) -> None:
    from kinfolk.matching.model import TermFrequencies
    from kinfolk.matching.tests.crafted import CRAFTED

    records, _ = generated
    norm = [normalize(r) for r in CRAFTED + records[:1500] + records[-500:]]
    left, right = candidate_pairs(norm)
    gamma = comparison_matrix(norm, norm, left, right)
    tf = TermFrequencies.from_records(norm)
    model = MatchModel.default()
    bulk = model.match_weights(gamma, norm, norm, left, right, tf)
    one_by_one = [
        model.match_weight(gamma[k].tolist(), norm[i], norm[j], tf)
        for k, (i, j) in enumerate(zip(left.tolist(), right.tolist(), strict=True))
    ]
    assert bulk.tolist() == pytest.approx(one_by_one)


def test_default_model_has_a_probability_for_every_level() -> None:
    from kinfolk.matching.compare import FIELDS

    model = MatchModel.default()
    for spec, m, u in zip(FIELDS, model.m, model.u, strict=True):
        assert len(m) == len(u) == len(spec.levels), spec.name
        assert sum(m) == pytest.approx(1.0, abs=1e-3) and sum(u) == pytest.approx(1.0, abs=1e-3)


def test_a_typo_in_the_birth_year_is_not_a_generation_apart() -> None:
    import datetime as dt

    home = {"street": "5 Wentworth Ave", "city": "Dover", "postcode": "2600"}
    a = PersonRecord("a", "Bianca", "", "Matthews", dt.date(1941, 1, 28), "F", **home)
    b = PersonRecord("b", "Bianca", "", "Matthews", dt.date(1914, 1, 28), "F", **home)
    assert GUARD not in score_pair(a, b).weights  # two digits swapped: one typo
    mother = PersonRecord("m", "Bianca", "", "Matthews", dt.date(1914, 6, 3), "F", **home)
    assert GUARD in score_pair(a, mother).weights


def test_a_waived_guard_still_holds_on_another_sex() -> None:
    import datetime as dt

    from kinfolk.matching.compare import compare
    from kinfolk.matching.model import guard_reason
    from kinfolk.matching.normalize import normalize

    born = dt.date(2019, 5, 4)
    a = normalize(PersonRecord("a", "Amara", "", "Okafor", born, "F", "", "12 Main St"))
    boy = normalize(PersonRecord("b", "Chidi", "", "Okafor", born, "M", "", "12 Main St"))
    girl = normalize(PersonRecord("c", "Ngozi", "", "Okafor", born, "F", "", "12 Main St"))
    waived = frozenset({"twins", "household"})
    assert guard_reason(compare(a, boy), a, boy, waived=waived)
    assert not guard_reason(compare(a, girl), a, girl, waived=waived)
    assert guard_reason(compare(a, girl), a, girl)
