"""Normalisation, nickname table and the field comparisons built on them."""

import datetime as dt

from kinfolk.matching.compare import (
    MISSING,
    compare,
    compare_dob,
    compare_first,
    compare_last,
    compare_pairs,
    compare_ssn,
)
from kinfolk.matching.normalize import (
    fold,
    nickname_match,
    normalize,
    normalize_name,
    normalize_street,
    split_name_order,
    surname_parts,
)
from kinfolk.matching.records import PersonRecord


def person(**kwargs: object) -> PersonRecord:
    return PersonRecord(record_id=str(kwargs.pop("record_id", "x")), **kwargs)  # type: ignore[arg-type]


def test_fold_strips_accents_case_and_punctuation() -> None:
    assert fold("  JOSÉ  Núñez ") == "jose nunez"
    assert fold("O'Brien") == "obrien"
    assert fold("Smith-Jones") == "smith jones"


def test_titles_suffixes_and_placeholders_are_not_names() -> None:
    assert normalize_name("Mr. John Smith Jr.") == "john smith"
    assert normalize_name("Baby Girl") == ""
    assert normalize_name("UNKNOWN") == ""


def test_compound_surnames_keep_their_parts_without_particles() -> None:
    assert surname_parts(normalize_name("García-López")) == ("garcia", "lopez")
    assert surname_parts(normalize_name("de la Cruz")) == ("cruz",)
    assert compare_last("garcia lopez", "garcia") == 1


def test_last_comma_first_in_one_field_is_split() -> None:
    assert split_name_order("", "Smith, John") == ("John", "Smith")
    n = normalize(person(last_name="Smith, John"))
    assert (n.first, n.last) == ("john", "smith")


def test_streets_abbreviate_common_words() -> None:
    assert normalize_street("12 Main Street") == normalize_street("12 main st.")


def test_nickname_table_knows_common_forms() -> None:
    assert nickname_match("bill", "william")
    assert nickname_match("liz", "elizabeth")
    assert nickname_match("bob", "robert")
    assert not nickname_match("mary", "john")


def test_first_name_levels() -> None:
    assert compare_first("william", "william") == 0
    assert compare_first("bill", "william") == 1
    assert compare_first("willaim", "william") == 2
    assert compare_first("bil", "william") == 3  # a misspelt nickname
    assert compare_first("pma", "pamela") == 3  # two letters of a nickname swapped
    assert compare_first("w", "william") == 4
    assert compare_first("mary", "william") == 5
    assert compare_first("", "william") == MISSING


def test_swapped_day_and_month_and_approximate_years() -> None:
    a = normalize(person(date_of_birth=dt.date(2015, 3, 7)))
    assert compare_dob(a, normalize(person(date_of_birth=dt.date(2015, 7, 3)))) == 1
    assert compare_dob(a, normalize(person(date_of_birth=dt.date(2015, 3, 8)))) == 2
    assert compare_dob(a, normalize(person(date_of_birth=dt.date(2014, 9, 1)))) == 3
    assert compare_dob(a, normalize(person(date_of_birth=dt.date(2001, 3, 7)))) == 4


def test_partial_ssn_agrees_on_the_last_four() -> None:
    assert compare_ssn("123456789", "6789") == 1
    assert compare_ssn("123456789", "123456798") == 2


def test_first_and_last_name_entered_the_wrong_way_round() -> None:
    a = normalize(person(first_name="Maria", last_name="Okafor"))
    b = normalize(person(first_name="Okafor", last_name="Maria"))
    levels = compare(a, b)
    assert levels[0] == 0 and levels[2] == 0


def test_many_pairs_at_once_get_the_levels_of_one_pair_at_a_time() -> None:
    import numpy as np

    from kinfolk.matching.blocking import candidate_pairs
    from kinfolk.matching.synthetic import corrupt, population
    from kinfolk.matching.tests.crafted import CRAFTED

    rng = np.random.default_rng(8)
    people = population(800, seed=9)
    swapped = [
        person(record_id="swap", first_name="Okafor", last_name="Maria", street="1 Elm St"),
        person(record_id="straight", first_name="Maria", last_name="Okafor", street="1 Elm St"),
    ]
    records = [
        *CRAFTED,
        *swapped,
        *people,
        *(corrupt(p, rng, record_id=f"{p.record_id}-copy") for p in people[:400]),
    ]
    norm = [normalize(r) for r in records]
    left, right = candidate_pairs(norm)
    pairs = zip(left.tolist(), right.tolist(), strict=True)
    one_by_one = [compare(norm[i], norm[j]) for i, j in pairs]
    assert compare_pairs(norm, None, left, right).tolist() == [list(v) for v in one_by_one]
