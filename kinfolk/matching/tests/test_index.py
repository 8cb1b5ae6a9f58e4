"""The search index: ranked answers, kept current by add/update/remove, durable on disk."""

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kinfolk.matching.index import SearchIndex
from kinfolk.matching.model import TermFrequencies
from kinfolk.matching.normalize import normalize
from kinfolk.matching.records import PersonRecord
from kinfolk.matching.synthetic import corrupt, intake_query, population
from kinfolk.matching.tests.crafted import BOY, BOY_AGAIN, CRAFTED, TWIN_A, TWIN_B


@pytest.fixture()
def index(tmp_path: Path) -> Iterator[SearchIndex]:
    idx = SearchIndex(tmp_path / "index.sqlite")
    idx.add_many(population(3000, seed=9) + CRAFTED)
    yield idx
    idx.close()


def test_a_misspelt_nickname_with_swapped_birth_date_finds_the_child(index: SearchIndex) -> None:
    results = index.search(BOY_AGAIN, limit=5)
    assert results[0].record_id in (BOY.record_id, BOY_AGAIN.record_id)
    assert {BOY.record_id, BOY_AGAIN.record_id} <= {c.record_id for c in results}
    best = results[0].score
    assert best.prior_weight + sum(best.weights.values()) == pytest.approx(best.match_weight)


def test_results_are_ranked_with_probabilities(index: SearchIndex) -> None:
    results = index.search(TWIN_A, limit=10)
    assert results[0].record_id == TWIN_A.record_id
    assert results[0].probability > 0.99
    probabilities = [c.probability for c in results]
    assert probabilities == sorted(probabilities, reverse=True)
    twin = next(c for c in results if c.record_id == TWIN_B.record_id)
    assert twin.probability < 0.01
    assert any("twins" in line for line in twin.score.explain())


def test_a_partial_query_with_last_four_of_ssn(index: SearchIndex) -> None:
    people = population(3000, seed=9)
    target = next(p for p in people if p.ssn)
    query = PersonRecord(
        "q", last_name=target.last_name, ssn=target.ssn[-4:], date_of_birth=target.date_of_birth
    )
    assert index.search(query, limit=3)[0].record_id == target.record_id


def test_typo_queries_find_the_person_in_the_top_ten(index: SearchIndex) -> None:
    people = population(3000, seed=9)
    rng = np.random.default_rng(2)
    picks = rng.choice(len(people), 100, replace=False)
    found = 0
    for i in picks.tolist():
        results = index.search(intake_query(people[i], rng), limit=10)
        found += people[i].record_id in {c.record_id for c in results}
    assert found >= 97


def test_update_moves_the_record_to_its_new_name(index: SearchIndex) -> None:
    renamed = dataclasses.replace(TWIN_A, first_name="Zuleika", last_name="Thornbury")
    index.update(renamed)
    assert len(index) == 3000 + len(CRAFTED)
    found = index.search(PersonRecord("q", "Zuleika", "", "Thornbury"), limit=1)
    assert found[0].record_id == TWIN_A.record_id
    old = index.search(PersonRecord("q", "Amara", "", "Okafor", TWIN_A.date_of_birth), limit=10)
    assert TWIN_A.record_id not in {c.record_id for c in old if c.probability > 0.5}


def test_remove_takes_the_record_out_of_every_answer(index: SearchIndex) -> None:
    assert index.remove(BOY.record_id)
    assert not index.remove(BOY.record_id)
    assert BOY.record_id not in index
    assert BOY.record_id not in {c.record_id for c in index.search(BOY, limit=20)}
    assert len(index) == 3000 + len(CRAFTED) - 1


def test_index_survives_reopening_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    with SearchIndex(path) as idx:
        idx.add_many(CRAFTED)
        idx.remove(TWIN_B.record_id)
        idx.update(dataclasses.replace(BOY, city="Springfield"))
        before = [(c.record_id, round(c.probability, 9)) for c in idx.search(BOY_AGAIN)]
    with SearchIndex(path) as idx:
        assert len(idx) == len(CRAFTED) - 1
        after = [(c.record_id, round(c.probability, 9)) for c in idx.search(BOY_AGAIN)]
    assert after == before


def test_name_counts_stay_equal_to_a_rebuild(index: SearchIndex, tmp_path: Path) -> None:
    index.remove(TWIN_B.record_id)
    index.update(dataclasses.replace(BOY, last_name="Hargreaves"))
    index.add(PersonRecord("new", "Amara", "", "Okafor", dt.date(2020, 1, 1)))
    stored = dict(
        ((field, value), n)
        for field, value, n in index._db.execute("SELECT field, value, n FROM names")
    )
    rows = index._db.execute("SELECT record_id FROM records").fetchall()
    assert len(rows) == len(index)
    people = {p.record_id: p for p in population(3000, seed=9) + CRAFTED}
    people[BOY.record_id] = dataclasses.replace(BOY, last_name="Hargreaves")
    people["new"] = PersonRecord("new", "Amara", "", "Okafor", dt.date(2020, 1, 1))
    del people[TWIN_B.record_id]
    rebuilt = TermFrequencies.from_records(normalize(p) for p in people.values())
    expected = {
        (field, value): n for field, counts in rebuilt.counts.items() for value, n in counts.items()
    }
    assert stored == expected


def test_training_by_em_is_saved_with_the_index(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    rng = np.random.default_rng(3)
    people = population(2000, seed=4)
    with SearchIndex(path) as idx:
        idx.add_many(people + [corrupt(p, rng, record_id=f"{p.record_id}c") for p in people[:600]])
        report = idx.train(sample=1500)
        assert report.converged
        model = idx.model.to_dict()
    with SearchIndex(path) as idx:
        assert idx.model.to_dict() == model


def test_two_workers_sharing_the_file_see_each_others_changes(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    with SearchIndex(path) as writer, SearchIndex(path) as reader:
        writer.add_many(CRAFTED)
        assert len(reader) == len(CRAFTED)
        assert reader.search(BOY_AGAIN, limit=1)[0].record_id in (
            BOY.record_id,
            BOY_AGAIN.record_id,
        )
        writer.add(PersonRecord("another-amara", "Amara", "", "Okafor", dt.date(1990, 2, 2)))
        score = reader.score(TWIN_A, TWIN_A.record_id)
        assert score is not None
        assert "common name" in next(c.level for c in score.contributions if c.field == "last_name")
        rng = np.random.default_rng(5)
        people = population(1500, seed=6)
        writer.add_many(
            people + [corrupt(p, rng, record_id=f"{p.record_id}c") for p in people[:500]]
        )
        writer.train(sample=1000)
        assert reader.model.to_dict() == writer.model.to_dict()


def test_an_index_from_an_incompatible_version_is_refused(tmp_path: Path) -> None:
    from kinfolk.matching.index import IndexFormatError

    path = tmp_path / "index.sqlite"
    with SearchIndex(path) as idx:
        idx._db.execute("UPDATE meta SET value = 'old' WHERE name = 'format'")
    with pytest.raises(IndexFormatError):
        SearchIndex(path)
