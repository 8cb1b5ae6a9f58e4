"""Bulk matching: de-duplicate one file, link two files, score one pair.

Each run learns its own model from the data in hand (u from random pairs, m by EM on
the blocked pairs), so no labelled examples are needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from kinfolk.matching.blocking import blocked_pairs
from kinfolk.matching.cluster import connected_components, one_to_one
from kinfolk.matching.model import (
    GUARDS,
    MatchModel,
    Score,
    TermFrequencies,
    TrainingReport,
    comparison_matrix,
    estimate_u,
    guarded_weights,
    train,
    waive_guards,
)
from kinfolk.matching.normalize import normalize
from kinfolk.matching.records import PersonRecord

DEFAULT_THRESHOLD = 0.5
# Below this many blocked pairs EM has too little to learn from and the default model,
# with u from the data itself, is the better guess.
MIN_PAIRS_FOR_EM = 500


@dataclass(frozen=True, slots=True)
class ScoredPair:
    left_id: str
    right_id: str
    probability: float


@dataclass(frozen=True)
class DedupeResult:
    """``cluster_of[record_id]`` is the cluster's id (the record_id of its first record).

    ``review`` holds the pairs the twins guard kept apart that would otherwise have matched,
    with the probability they would have had: possible twins, or one child under two names —
    for a data steward's possible-duplicate queue, never for an automatic merge.
    """

    cluster_of: dict[str, str]
    pairs: list[ScoredPair]
    model: MatchModel
    training: TrainingReport
    review: list[ScoredPair]


@dataclass(frozen=True)
class LinkResult:
    links: list[ScoredPair]
    model: MatchModel
    training: TrainingReport


def score_pair(
    a: PersonRecord,
    b: PersonRecord,
    *,
    model: MatchModel | None = None,
    term_frequencies: TermFrequencies | None = None,
    prior: float | None = None,
) -> Score:
    """Score two records with an explanation whose weights sum to the match weight."""
    model = model or MatchModel.default()
    return model.score(normalize(a), normalize(b), term_frequencies, prior)


def _probability(weights: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp2(-np.clip(weights, -60, 60)))


def _fit(
    gamma: npt.NDArray[np.int8],
    u: list[list[float]],
    total_pairs: float,
    guards: frozenset[str],
) -> tuple[MatchModel, TrainingReport]:
    default = MatchModel.default()
    start = MatchModel(m=default.m, u=default.u, prior=default.prior, guards=guards)
    if len(gamma) >= MIN_PAIRS_FOR_EM:
        return train(gamma, u, total_pairs, start=start)
    return start, TrainingReport(0, False, 0.0)


def dedupe(
    records: Sequence[PersonRecord],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    model: MatchModel | None = None,
    guards: frozenset[str] = GUARDS,
    min_pair_probability: float | None = None,
) -> DedupeResult:
    """Cluster records that are the same person; ``model`` skips training when given.

    ``guards`` (see model.GUARDS) keep twins, household members and parent/child apart;
    drop one only for data known not to have them. When the model is learnt here, a
    guard's pattern that the file's own duplicates account for (FEBRL-like files replace
    given names and mistype birth years) holds only on positive evidence of two people
    (another sex, Jr/Sr); ``result.model.waived`` names those clauses (model.waive_guards).
    ``pairs`` holds the scored pairs at or above ``min_pair_probability`` (default: the
    threshold) — lower it to fill a possible-duplicate queue or to check calibration.
    """
    norm = [normalize(r) for r in records]
    n = len(norm)
    # ``person``: the pairs sharing a person key (not only an address), EM's training set.
    pairs_left, pairs_right, person = blocked_pairs(norm)
    gamma = comparison_matrix(norm, norm, pairs_left, pairs_right)
    if model is None:
        model, report = _fit(gamma[person], estimate_u(norm), n * (n - 1) / 2, guards)
    else:
        report = TrainingReport(0, True, 0.0)
    tf = TermFrequencies.from_records(norm)
    unguarded = model.match_weights(
        gamma, norm, norm, pairs_left, pairs_right, tf, apply_guards=False
    )
    if report.learned:
        model, _ = waive_guards(model, gamma, norm, norm, pairs_left, pairs_right, unguarded)
    guarded = model.guard_mask(gamma, norm, norm, pairs_left, pairs_right)
    probability = _probability(guarded_weights(unguarded, guarded))
    unguarded_probability = _probability(unguarded)
    # Only the twins guard leaves a real doubt (twins, or one child entered under two first
    # names); siblings in one home and parent and child are two people, nothing to review.
    twins = replace(model, guards=model.guards & {"twins"}).guard_mask(
        gamma, norm, norm, pairs_left, pairs_right
    )
    review = [
        ScoredPair(
            records[int(pairs_left[k])].record_id,
            records[int(pairs_right[k])].record_id,
            float(unguarded_probability[k]),
        )
        for k in np.flatnonzero(twins & (unguarded_probability >= threshold)).tolist()
    ]
    labels = connected_components(
        n,
        pairs_left,
        pairs_right,
        probability,
        threshold,
        cannot_link=(pairs_left[guarded], pairs_right[guarded]),
    )
    cluster_of = {r.record_id: records[labels[i]].record_id for i, r in enumerate(records)}
    floor = threshold if min_pair_probability is None else min_pair_probability
    keep = np.flatnonzero(probability >= floor)
    pairs = [
        ScoredPair(
            records[int(pairs_left[k])].record_id,
            records[int(pairs_right[k])].record_id,
            float(probability[k]),
        )
        for k in keep.tolist()
    ]
    return DedupeResult(
        cluster_of=cluster_of, pairs=pairs, model=model, training=report, review=review
    )


def link(
    left: Sequence[PersonRecord],
    right: Sequence[PersonRecord],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    model: MatchModel | None = None,
    unique: bool = True,
    guards: frozenset[str] = GUARDS,
) -> LinkResult:
    """Pairs across two files judged the same person.

    ``unique`` keeps at most one link per record on each side (each file lists a person
    once); pass False when either file has duplicates of its own.
    """
    norm_left = [normalize(r) for r in left]
    norm_right = [normalize(r) for r in right]
    pairs_left, pairs_right, person = blocked_pairs(norm_left, norm_right)
    gamma = comparison_matrix(norm_left, norm_right, pairs_left, pairs_right)
    if model is None:
        u = estimate_u(norm_left, norm_right)
        model, report = _fit(gamma[person], u, float(len(left)) * len(right), guards)
    else:
        report = TrainingReport(0, True, 0.0)
    tf = TermFrequencies.from_records([*norm_left, *norm_right])
    unguarded = model.match_weights(
        gamma, norm_left, norm_right, pairs_left, pairs_right, tf, apply_guards=False
    )
    if report.learned:
        model, _ = waive_guards(
            model, gamma, norm_left, norm_right, pairs_left, pairs_right, unguarded
        )
    guarded = model.guard_mask(gamma, norm_left, norm_right, pairs_left, pairs_right)
    probability = _probability(guarded_weights(unguarded, guarded))
    if unique:
        kept = one_to_one(pairs_left, pairs_right, probability, threshold)
    else:
        kept = np.flatnonzero(probability >= threshold)
    links = [
        ScoredPair(
            left[int(pairs_left[k])].record_id,
            right[int(pairs_right[k])].record_id,
            float(probability[k]),
        )
        for k in kept.tolist()
    ]
    return LinkResult(links=links, model=model, training=report)
