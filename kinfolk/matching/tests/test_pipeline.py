"""Dedupe and link on small crafted sets, alone and hidden in a larger population."""

import dataclasses
import datetime as dt

import numpy as np
import pytest

from kinfolk.matching.pipeline import dedupe, link
from kinfolk.matching.records import PersonRecord
from kinfolk.matching.synthetic import corrupt, population
from kinfolk.matching.tests.crafted import (
    BOY,
    BOY_AGAIN,
    CRAFTED,
    FATHER,
    HOME,
    MOTHER,
    SISTER,
    SISTER_MARRIED,
    STRANGER,
    TWIN_A,
    TWIN_B,
)


@pytest.fixture(scope="module", params=["alone", "in a population"])
def clusters(request: pytest.FixtureRequest) -> dict[str, str]:
    # In a population the model is learnt by EM; alone it is the default model.
    records = list(CRAFTED)
    if request.param != "alone":
        people = population(1500, seed=3)
        rng = np.random.default_rng(4)
        records += people + [corrupt(p, rng, record_id=f"{p.record_id}-copy") for p in people[:500]]
    return dedupe(records).cluster_of


def test_twins_with_the_same_birth_date_and_home_are_not_merged(clusters: dict) -> None:
    assert clusters[TWIN_A.record_id] != clusters[TWIN_B.record_id]


def test_guarded_pairs_go_to_the_review_queue_instead() -> None:
    result = dedupe(CRAFTED)
    review = {(p.left_id, p.right_id): p.probability for p in result.review}
    assert review.get((TWIN_A.record_id, TWIN_B.record_id), 0.0) >= 0.5


def test_misspelt_nickname_with_swapped_birth_date_is_found(clusters: dict) -> None:
    assert clusters[BOY.record_id] == clusters[BOY_AGAIN.record_id]


def test_a_changed_compound_surname_is_found(clusters: dict) -> None:
    assert clusters[SISTER.record_id] == clusters[SISTER_MARRIED.record_id]


def test_household_members_and_strangers_stay_apart(clusters: dict) -> None:
    for other in (MOTHER, FATHER, STRANGER):
        assert clusters[other.record_id] != clusters[BOY.record_id]
    assert clusters[TWIN_A.record_id] != clusters[MOTHER.record_id]
    assert clusters[FATHER.record_id] != clusters[MOTHER.record_id]


def test_every_record_gets_a_cluster(clusters: dict) -> None:
    assert {r.record_id for r in CRAFTED} <= set(clusters)


def test_link_finds_the_boy_and_not_the_twin() -> None:
    result = link([BOY, TWIN_A, MOTHER], [BOY_AGAIN, TWIN_B, STRANGER, FATHER])
    pairs = {(p.left_id, p.right_id) for p in result.links}
    assert pairs == {(BOY.record_id, BOY_AGAIN.record_id)}
    assert all(0.5 <= p.probability <= 1 for p in result.links)


def test_twins_are_not_chained_together_through_a_record_without_a_first_name() -> None:
    import dataclasses

    baby = dataclasses.replace(TWIN_A, record_id="baby", first_name="Baby", sex="")
    clusters = dedupe([TWIN_A, TWIN_B, baby]).cluster_of
    assert clusters[TWIN_A.record_id] != clusters[TWIN_B.record_id]


# Siblings in one home whose names are alike: no guard used to hold them apart, and the shared
# address outweighed the different birth dates.
ELIJAH = PersonRecord("elijah", "Elijah", "Ann", "Jackson", dt.date(2014, 3, 31), "M", **HOME)
ELIZABETH = PersonRecord(
    "elizabeth", "Elizabeth", "Marie", "Jackson", dt.date(2013, 3, 19), "F", **HOME
)
ROBERT = PersonRecord("robert", "Robert", "Marie", "Hernandez", dt.date(2019, 3, 10), "M", **HOME)
WILLIAM = PersonRecord(
    "william", "William", "Marie", "Hernandez", dt.date(2016, 5, 17), "M", **HOME
)


@pytest.mark.parametrize("a, b", [(ELIJAH, ELIZABETH), (ROBERT, WILLIAM)])
def test_siblings_with_alike_names_in_one_home_are_two_people(
    a: PersonRecord, b: PersonRecord
) -> None:
    result = dedupe([*CRAFTED, a, b])
    assert result.cluster_of[a.record_id] != result.cluster_of[b.record_id]
    # Nor do they reach the steward's queue: only possible twins do.
    assert (a.record_id, b.record_id) not in {(p.left_id, p.right_id) for p in result.review}
    assert (b.record_id, a.record_id) not in {(p.left_id, p.right_id) for p in result.review}


def test_a_parent_and_child_of_one_name_are_not_queued_for_review() -> None:
    result = dedupe(CRAFTED)
    queued = {frozenset((p.left_id, p.right_id)) for p in result.review}
    assert frozenset((BOY.record_id, FATHER.record_id)) not in queued


# Whether a given name that plainly differs says "twins" or "a typing slip" depends on the
# file: the guard is waived only where the file's duplicates account for such pairs.
def _file_with_replaced_given_names() -> tuple[list[PersonRecord], list[tuple[str, str]]]:
    """FEBRL-like: a quarter of the copies carry another person's given name, and slips in
    one field are independent of slips in another, so some copies have moved as well."""
    people = population(1500, seed=21)
    rng = np.random.default_rng(22)
    copies = [corrupt(p, rng, record_id=f"{p.record_id}-copy") for p in people[:400]]
    renamed = [
        dataclasses.replace(
            p, record_id=f"{p.record_id}-renamed", first_name=people[-1 - i].first_name
        )
        for i, p in enumerate(people[400:500])
    ]
    moved = [
        dataclasses.replace(r, street=home.street, city=home.city, postcode=home.postcode, phone="")
        if i % 3 == 0 and r.street
        else r
        for i, (r, home) in enumerate(zip([*copies, *renamed], people[::-1], strict=False))
    ]
    pairs = [(p.record_id, f"{p.record_id}-renamed") for p in people[400:500]]
    return [*people, *moved], pairs


def test_copies_with_another_given_name_are_found_when_the_file_is_full_of_them() -> None:
    records, pairs = _file_with_replaced_given_names()
    result = dedupe(records)
    assert "twins" in result.model.waived
    found = sum(result.cluster_of[a] == result.cluster_of[b] for a, b in pairs)
    assert found >= 0.9 * len(pairs)


def test_twins_stay_apart_in_a_file_that_has_twins_and_ordinary_duplicates() -> None:
    people = population(1500, seed=21)
    rng = np.random.default_rng(22)
    copies = [corrupt(p, rng, record_id=f"{p.record_id}-copy") for p in people[:400]]
    # 100 same-sex twins: same birth date, surname, home and sex, another given name.
    twins = [
        dataclasses.replace(
            p, record_id=f"{p.record_id}-twin", first_name=people[-1 - i].first_name, ssn=""
        )
        for i, p in enumerate(people[400:500])
        if people[-1 - i].first_name.lower() != p.first_name.lower()
    ]
    result = dedupe([*people, *copies, *twins])
    assert "twins" not in result.model.waived
    merged = sum(
        result.cluster_of[t.record_id] == result.cluster_of[t.record_id.removesuffix("-twin")]
        for t in twins
    )
    assert merged == 0


def test_twins_of_another_sex_stay_apart_even_where_the_twins_guard_is_waived() -> None:
    records, _ = _file_with_replaced_given_names()
    result = dedupe([*records, *CRAFTED])
    assert "twins" in result.model.waived
    assert result.cluster_of[TWIN_A.record_id] != result.cluster_of[TWIN_B.record_id]
