"""The Fellegi–Sunter model: m and u per comparison level, EM training, scores with reasons.

A score is a sum of log2 Bayes factors — the prior odds plus one contribution per field —
so the explanation shown to a worker adds up to the score exactly, and the match
probability is that sum turned back into a probability.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from kinfolk.matching.compare import (
    FIELD_INDEX,
    FIELDS,
    MISSING,
    N_FIELDS,
    compare,
    compare_pairs,
)
from kinfolk.matching.normalize import Normalized

_FIRST = FIELD_INDEX["first_name"]
_LAST = FIELD_INDEX["last_name"]
_DOB = FIELD_INDEX["date_of_birth"]
_SEX = FIELD_INDEX["sex"]
# compare_dob's last level: the dates are more than about a year apart.
_DOB_FAR = len(FIELDS[_DOB].levels) - 1
_FIRST_DIFFERENT = len(FIELDS[_FIRST].levels) - 1
# Guards: facts that say "two people" however much else agrees, because the fields that
# agree are shared by relatives and the independence assumption would add them up.
# - twins: same birth date and surname, a plainly different first name (not a nickname,
#   typo or initial);
# - household: a plainly different first name at the same street or phone, birth dates
#   not equal (different, close, or unknown): a sibling or parent; or a first name not
#   the same with birth dates over a year apart or another sex: siblings with alike names;
# - generation: birth dates a generation apart (not a typo in the year) with "Jr"/"Sr"
#   differing or one household.
# A guard holds the match weight at or below GUARD_CEILING (probability under 0.1%), and
# always counts at least GUARD_CEILING itself, so the explanation names it.
# Each guard is made of clauses (see guard_clauses). Part of a clause is positive evidence
# of two people (another sex, differing suffixes) and always holds. The rest is a pattern
# that relatives produce and so can a file's typing errors (a given name replaced, a birth
# year mistyped): ``waive_guards`` measures which one the file in hand shows and waives
# that part of a clause only where the duplicates account for the pattern.
GUARD = "guard"
GUARDS = frozenset({"twins", "household", "generation"})
GUARD_CEILING = -10.0
GENERATION_GAP_YEARS = 12
_STREET = FIELD_INDEX["street"]
_PHONE = FIELD_INDEX["phone"]
# A move changes street, town, postcode and phone together: one fact, not four pieces of
# evidence against a match. Their negative weights count once (the strongest of them).
_HOME = tuple(FIELD_INDEX[name] for name in ("street", "city", "postcode", "phone"))
MOVED = "moved"
_PROB_FLOOR = 1e-6


@dataclass(frozen=True, slots=True)
class FieldContribution:
    """One field's part of a score: the level reached and its log2 Bayes factor."""

    field: str
    level: str
    weight: float


@dataclass(frozen=True, slots=True)
class Score:
    """A match probability and why: ``prior_weight + sum(weights) == match_weight``."""

    probability: float
    match_weight: float
    prior_weight: float
    contributions: tuple[FieldContribution, ...]

    @property
    def weights(self) -> dict[str, float]:
        return {c.field: c.weight for c in self.contributions}

    def explain(self) -> list[str]:
        """Human-readable lines, strongest evidence first, for the worker's screen."""
        lines = []
        for c in sorted(self.contributions, key=lambda c: -abs(c.weight)):
            if c.level == "missing":
                continue
            lines.append(f"{c.field.replace('_', ' ')}: {c.level} ({c.weight:+.1f})")
        return lines


def probability_from_weight(weight: float) -> float:
    if weight > 60:
        return 1.0
    if weight < -60:
        return 0.0
    return 1.0 / (1.0 + 2.0 ** (-weight))


def _logit2(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log2(p / (1 - p))


@dataclass
class TermFrequencies:
    """How often each first and last name occurs, for the term-frequency adjustment."""

    counts: dict[str, Counter[str]] = field(
        default_factory=lambda: {"first_name": Counter(), "last_name": Counter()}
    )
    totals: dict[str, int] = field(default_factory=lambda: {"first_name": 0, "last_name": 0})

    @classmethod
    def from_records(cls, records: Iterable[Normalized]) -> TermFrequencies:
        tf = cls()
        for r in records:
            tf.add(r)
        return tf

    def add(self, r: Normalized, sign: int = 1) -> None:
        for name, value in (("first_name", r.first), ("last_name", r.last)):
            if value:
                self.counts[name][value] += sign
                self.totals[name] += sign
                if self.counts[name][value] <= 0:
                    del self.counts[name][value]

    def remove(self, r: Normalized) -> None:
        self.add(r, sign=-1)

    def frequency(self, field_name: str, value: str) -> float:
        total = self.totals[field_name]
        if total <= 0:
            return 0.0
        return max(self.counts[field_name].get(value, 0), 1) / total


@dataclass
class MatchModel:
    """m and u per field and level, and the prior probability two random records match."""

    m: list[list[float]]
    u: list[list[float]]
    prior: float
    # Which guards apply (see GUARDS); all of them unless a caller knowingly drops one.
    guards: frozenset[str] = GUARDS
    # Clauses (see guard_clauses) whose pattern this file's duplicates explain: they hold
    # only on positive evidence of two people. Set by ``waive_guards``; none by default.
    waived: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self._table = [
            [
                math.log2(max(mi, _PROB_FLOOR) / max(ui, _PROB_FLOOR))
                for mi, ui in zip(ms, us, strict=True)
            ]
            for ms, us in zip(self.m, self.u, strict=True)
        ]

    @classmethod
    def default(cls) -> MatchModel:
        """Starting values from experience with registry data; ``train`` refines them by EM."""
        m = [
            [0.85, 0.04, 0.05, 0.03, 0.02, 0.01],
            [0.8, 0.1, 0.05, 0.05],
            [0.85, 0.03, 0.06, 0.03, 0.03],
            [0.88, 0.02, 0.06, 0.02, 0.02],
            [0.97, 0.03],
            [0.95, 0.02, 0.02, 0.01],
            [0.75, 0.1, 0.08, 0.07],
            [0.85, 0.08, 0.07],
            [0.85, 0.08, 0.07],
            [0.85, 0.05, 0.1],
        ]
        u = [
            [0.01, 0.003, 0.003, 0.02, 0.004, 0.96],
            [0.02, 0.05, 0.01, 0.92],
            [0.003, 0.0005, 0.002, 0.02, 0.9745],
            [0.00004, 0.00003, 0.0005, 0.01, 0.98943],
            [0.5, 0.5],
            [0.000001, 0.0001, 0.00002, 0.999879],
            [0.0001, 0.0005, 0.01, 0.9894],
            [0.01, 0.005, 0.985],
            [0.002, 0.01, 0.988],
            [0.000001, 0.00001, 0.999989],
        ]
        return cls(m=m, u=u, prior=1e-4)

    def to_dict(self) -> dict[str, object]:
        return {
            "m": self.m,
            "u": self.u,
            "prior": self.prior,
            "guards": sorted(self.guards),
            "waived": sorted(self.waived),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> MatchModel:
        guards = frozenset(data.get("guards", GUARDS))  # type: ignore[call-overload]
        waived = frozenset(data.get("waived", ()))  # type: ignore[call-overload]
        return cls(
            m=data["m"],  # type: ignore[arg-type]
            u=data["u"],  # type: ignore[arg-type]
            prior=float(data["prior"]),  # type: ignore[arg-type]
            guards=guards & GUARDS,
            waived=waived & CLAUSES,
        )

    def level_weight(self, field_index: int, level: int) -> float:
        return 0.0 if level == MISSING else self._table[field_index][level]

    def _move_correction(self, levels: Sequence[int]) -> float:
        """Give back all but the strongest of the home fields' negative weights."""
        negatives = [
            self._table[i][levels[i]]
            for i in _HOME
            if levels[i] != MISSING and self._table[i][levels[i]] < 0
        ]
        if len(negatives) < 2:
            return 0.0
        return min(negatives) - sum(negatives)

    def _tf_adjustment(self, field_index: int, value: str, tf: TermFrequencies | None) -> float:
        """log2(u_exact / frequency): above zero for rare names, below for common ones."""
        if tf is None or not value:
            return 0.0
        freq = tf.frequency(FIELDS[field_index].name, value)
        if freq <= 0:
            return 0.0
        return math.log2(max(self.u[field_index][0], _PROB_FLOOR) / freq)

    def match_weight(
        self,
        levels: Sequence[int],
        a: Normalized,
        b: Normalized,
        tf: TermFrequencies | None = None,
        prior: float | None = None,
    ) -> float:
        """The score's log2 odds, without building the explanation (the bulk path)."""
        total = _logit2(self.prior if prior is None else prior)
        table = self._table
        for i, level in enumerate(levels):
            if level != MISSING:
                total += table[i][level]
        total += self._move_correction(levels)
        if levels[_FIRST] == 0 and a.first == b.first:
            total += self._tf_adjustment(_FIRST, a.first, tf)
        if levels[_LAST] == 0 and a.last == b.last:
            total += self._tf_adjustment(_LAST, a.last, tf)
        if guard_reason(levels, a, b, self.guards, self.waived):
            total += _guard_weight(total)
        return total

    def match_weights(
        self,
        gamma: npt.NDArray[np.int8],
        left: Sequence[Normalized],
        right: Sequence[Normalized],
        pairs_left: npt.NDArray[np.int64],
        pairs_right: npt.NDArray[np.int64],
        tf: TermFrequencies | None = None,
        prior: float | None = None,
        *,
        apply_guards: bool = True,
    ) -> npt.NDArray[np.float64]:
        """``match_weight`` for many pairs at once (row k: left[pairs_left[k]] and so on).

        ``apply_guards=False`` gives the weight before any guard, for a review queue.
        """
        width = max(len(spec.levels) for spec in FIELDS) + 1
        # The last column stays 0, so a MISSING (-1) level indexes it and adds nothing.
        table = np.zeros((N_FIELDS, width))
        for f, row in enumerate(self._table):
            table[f, : len(row)] = row
        total = np.full(len(gamma), _logit2(self.prior if prior is None else prior))
        for f in range(N_FIELDS):
            total += table[f][gamma[:, f]]
        home = np.stack([table[f][gamma[:, f]] for f in _HOME], axis=1)
        negative = np.minimum(home, 0.0)
        several = (negative < 0).sum(axis=1) >= 2
        total[several] += negative[several].min(axis=1) - negative[several].sum(axis=1)
        if tf is not None:
            for f, attribute in ((_FIRST, "first"), (_LAST, "last")):
                total += self._tf_adjustments(
                    gamma[:, f], attribute, f, left, right, pairs_left, pairs_right, tf
                )
        if not apply_guards:
            return total
        return guarded_weights(total, self.guard_mask(gamma, left, right, pairs_left, pairs_right))

    def _tf_adjustments(
        self,
        levels: npt.NDArray[np.int8],
        attribute: str,
        field_index: int,
        left: Sequence[Normalized],
        right: Sequence[Normalized],
        pairs_left: npt.NDArray[np.int64],
        pairs_right: npt.NDArray[np.int64],
        tf: TermFrequencies,
    ) -> npt.NDArray[np.float64]:
        """Per pair, the term-frequency adjustment of an exact name (0 elsewhere)."""
        vocab: dict[str, int] = {}
        ids_left = np.fromiter(
            (vocab.setdefault(getattr(r, attribute), len(vocab)) for r in left),
            dtype=np.int64,
            count=len(left),
        )
        ids_right = (
            ids_left
            if right is left
            else np.fromiter(
                (vocab.setdefault(getattr(r, attribute), len(vocab)) for r in right),
                dtype=np.int64,
                count=len(right),
            )
        )
        a, b = ids_left[pairs_left], ids_right[pairs_right]
        rows = np.flatnonzero((levels == 0) & (a == b))
        out = np.zeros(len(levels))
        if len(rows):
            values = list(vocab)
            used, inverse = np.unique(a[rows], return_inverse=True)
            table = np.asarray(
                [self._tf_adjustment(field_index, values[i], tf) for i in used.tolist()]
            )
            out[rows] = table[inverse.ravel()]
        return out

    def guard_mask(
        self,
        gamma: npt.NDArray[np.int8],
        left: Sequence[Normalized],
        right: Sequence[Normalized],
        pairs_left: npt.NDArray[np.int64],
        pairs_right: npt.NDArray[np.int64],
    ) -> npt.NDArray[np.bool_]:
        """Which pairs a guard declares two people (``guard_reason`` for many pairs)."""
        guarded = np.zeros(len(gamma), dtype=bool)
        for clause in guard_clauses(gamma, left, right, pairs_left, pairs_right):
            if clause.guard in self.guards:
                if clause.name in self.waived:
                    guarded |= clause.evidence
                else:
                    guarded |= clause.held
        return guarded

    def score_levels(
        self,
        levels: Sequence[int],
        a: Normalized,
        b: Normalized,
        tf: TermFrequencies | None = None,
        prior: float | None = None,
    ) -> Score:
        prior_weight = _logit2(self.prior if prior is None else prior)
        contributions = []
        for i, (spec, level) in enumerate(zip(FIELDS, levels, strict=True)):
            weight = self.level_weight(i, level)
            label = "missing" if level == MISSING else spec.levels[level]
            if level == 0 and spec.term_frequency:
                value = a.first if i == _FIRST else a.last
                other = b.first if i == _FIRST else b.last
                if value == other:
                    adjustment = self._tf_adjustment(i, value, tf)
                    if adjustment:
                        weight += adjustment
                        label += ", rare name" if adjustment > 0 else ", common name"
            contributions.append(FieldContribution(spec.name, label, weight))
        moved = self._move_correction(levels)
        if moved:
            contributions.append(
                FieldContribution(
                    MOVED, "street, town, postcode or phone differ: counted once, as a move", moved
                )
            )
        reason = guard_reason(levels, a, b, self.guards, self.waived)
        if reason:
            before = prior_weight + sum(c.weight for c in contributions)
            contributions.append(FieldContribution(GUARD, reason, _guard_weight(before)))
        total = prior_weight + sum(c.weight for c in contributions)
        return Score(
            probability=probability_from_weight(total),
            match_weight=total,
            prior_weight=prior_weight,
            contributions=tuple(contributions),
        )

    def score(
        self,
        a: Normalized,
        b: Normalized,
        tf: TermFrequencies | None = None,
        prior: float | None = None,
    ) -> Score:
        return self.score_levels(compare(a, b), a, b, tf, prior)


def guard_reason(
    levels: Sequence[int],
    a: Normalized,
    b: Normalized,
    guards: frozenset[str] = GUARDS,
    waived: frozenset[str] = frozenset(),
) -> str:
    """Why the pair must be two people, or "" when none of ``guards`` applies.

    The same clauses as ``guard_clauses``, for one pair; a ``waived`` clause applies only
    on its positive evidence (another sex, differing suffixes).
    """
    first, dob = levels[_FIRST], levels[_DOB]
    first_differs = first == _FIRST_DIFFERENT
    dob_same = dob in (0, 1)
    other_sex = levels[_SEX] == 1
    household = levels[_STREET] in (0, 1) or levels[_PHONE] == 0
    if (
        "twins" in guards
        and first_differs
        and dob_same
        and levels[_LAST] in (0, 1, 2)
        and ("twins" not in waived or other_sex)
    ):
        return "same birth date and surname, different first name: twins or siblings"
    if "household" in guards:
        if (
            first_differs
            and not dob_same
            and household
            and ("household" not in waived or other_sex)
        ):
            return "different first name, not the same birth date, one home: two of one household"
        if (
            household
            and first > 0
            and (dob == _DOB_FAR or other_sex)
            and ("siblings" not in waived or other_sex)
        ):
            return (
                "not the same first name, born over a year apart or another sex, one home: siblings"
            )
    if (
        "generation" in guards
        and dob == _DOB_FAR
        and a.dob_year
        and b.dob_year
        and abs(a.dob_year - b.dob_year) >= GENERATION_GAP_YEARS
        and (a.suffix != b.suffix or (household and "generation" not in waived))
    ):
        where = "different name suffixes" if a.suffix != b.suffix else "one home"
        years = abs(a.dob_year - b.dob_year)
        return f"born {years} years apart, {where}: parent and child"
    return ""


@dataclass(frozen=True)
class GuardClause:
    """One clause of a guard, over many pairs.

    ``held``: the pairs it keeps apart; ``evidence``: those of them with positive evidence
    of two people (never waived); ``counterpart``: pairs in the same context whose telling
    fields agree instead (mostly the file's duplicates); ``m_ratio``: how much likelier a
    duplicate shows the telling pattern than the agreement, by the model's m, unless
    ``away`` measures that rate on the file itself.
    """

    name: str
    guard: str
    held: npt.NDArray[np.bool_]
    evidence: npt.NDArray[np.bool_]
    counterpart: npt.NDArray[np.bool_]
    # Which held pairs the m_ratio speaks for (e.g. those with a birth date to compare).
    comparable: npt.NDArray[np.bool_]
    m_ratio: Callable[[list[list[float]]], float]
    # Where the model's m cannot be trusted for the rate (the relatives themselves teach
    # it to EM: twins share every person key), the rate is measured instead on the same
    # context away from one home: (telling pattern, agreement) there.
    away: tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]] | None = None


CLAUSES = frozenset({"twins", "household", "siblings", "generation"})
# A clause is waived when the duplicates explain at least half of its (soft) pairs — the
# pattern is then likelier a duplicate than two relatives, the same call as the match
# threshold — and only when enough pairs were seen to tell. EM's m understates how often
# duplicates disagree (a pair disagreeing on much looks like a non-match to it), so the
# expected count runs low: the error is on the side of keeping the guard. (Relatives who
# share person keys could inflate m instead; twins do, so their rate is measured away
# from one home; a parent and child of one name could, for the generation clause.)
WAIVE_SHARE = 0.5
WAIVE_MIN_HELD = 10
WAIVE_MIN_COUNTERPARTS = 30


def _share(m: list[float], levels: Sequence[int]) -> float:
    return max(sum(m[level] for level in levels), _PROB_FLOOR)


def guard_clauses(
    gamma: npt.NDArray[np.int8],
    left: Sequence[Normalized],
    right: Sequence[Normalized],
    pairs_left: npt.NDArray[np.int64],
    pairs_right: npt.NDArray[np.int64],
) -> list[GuardClause]:
    """The guards' clauses for many pairs (``guard_reason`` for one)."""
    first, dob, sex = gamma[:, _FIRST], gamma[:, _DOB], gamma[:, _SEX]
    first_differs = first == _FIRST_DIFFERENT
    first_alike = (first >= 0) & (first <= 3)
    dob_same = np.isin(dob, (0, 1))
    other_sex = sex == 1
    household = np.isin(gamma[:, _STREET], (0, 1)) | (gamma[:, _PHONE] == 0)
    surname = np.isin(gamma[:, _LAST], (0, 1, 2))
    # Both streets known and not the same, and no shared phone: not one home.
    elsewhere = np.isin(gamma[:, _STREET], (2, 3)) & (gamma[:, _PHONE] != 0)
    alike, differ, far = (0, 1, 2, 3), (_FIRST_DIFFERENT,), (_DOB_FAR,)

    twins = first_differs & dob_same & surname
    apart = first_differs & ~dob_same & household
    siblings = household & (first > 0) & ((dob == _DOB_FAR) | other_sex)
    year_l = np.asarray([r.dob_year for r in left])[pairs_left]
    year_r = np.asarray([r.dob_year for r in right])[pairs_right]
    suffix_l = np.asarray([r.suffix for r in left])[pairs_left]
    suffix_r = np.asarray([r.suffix for r in right])[pairs_right]
    suffixes = suffix_l != suffix_r
    generations = (
        (dob == _DOB_FAR)
        & (year_l > 0)
        & (year_r > 0)
        & (np.abs(year_l - year_r) >= GENERATION_GAP_YEARS)
    )
    everywhere = np.ones(len(gamma), dtype=bool)
    return [
        GuardClause(
            "twins",
            "twins",
            held=twins,
            evidence=twins & other_sex,
            counterpart=dob_same & surname & first_alike & household,
            comparable=household,
            m_ratio=lambda m: _share(m[_FIRST], differ) / _share(m[_FIRST], alike),
            away=(twins & ~other_sex & elsewhere, dob_same & surname & first_alike & elsewhere),
        ),
        GuardClause(
            "household",
            "household",
            held=apart,
            evidence=apart & other_sex,
            counterpart=household & first_alike & dob_same,
            comparable=dob >= 0,
            m_ratio=lambda m: (
                _share(m[_FIRST], differ)
                / _share(m[_FIRST], alike)
                * _share(m[_DOB], (2, 3, 4))
                / _share(m[_DOB], (0, 1))
            ),
        ),
        GuardClause(
            "siblings",
            "household",
            held=siblings,
            evidence=siblings & other_sex,
            counterpart=household & (first == 0) & (dob >= 0) & (dob < _DOB_FAR) & ~other_sex,
            comparable=everywhere,
            m_ratio=lambda m: (
                _share(m[_FIRST], (1, 2, 3, 4, 5))
                / _share(m[_FIRST], (0,))
                * _share(m[_DOB], far)
                / _share(m[_DOB], (0, 1, 2, 3))
            ),
        ),
        GuardClause(
            "generation",
            "generation",
            held=generations & (suffixes | household),
            evidence=generations & suffixes,
            counterpart=household & first_alike & np.isin(dob, (0, 1, 2)),
            comparable=first_alike,
            m_ratio=lambda m: _share(m[_DOB], far) / _share(m[_DOB], (0, 1, 2)),
        ),
    ]


@dataclass(frozen=True, slots=True)
class Waiver:
    """What ``waive_guards`` saw for one clause (counts of pairs that would otherwise match)."""

    clause: str
    held: int
    counterparts: int
    expected_duplicates: float
    waived: bool


def waive_guards(
    model: MatchModel,
    gamma: npt.NDArray[np.int8],
    left: Sequence[Normalized],
    right: Sequence[Normalized],
    pairs_left: npt.NDArray[np.int64],
    pairs_right: npt.NDArray[np.int64],
    unguarded: npt.NDArray[np.float64],
) -> tuple[MatchModel, list[Waiver]]:
    """The model with the clauses waived whose pattern this file's duplicates explain.

    For a clause, the pairs in the same context whose telling fields agree (same birth
    date, surname and home and a first name alike, for twins) are mostly duplicates; the
    model's m says how many duplicates show the telling pattern instead (a first name
    replaced) for each of those — for twins, the rate among the same pairs living apart,
    as twins at home would otherwise vouch for themselves through EM. When that accounts
    for at least half the pairs the clause holds apart (WAIVE_SHARE), they are likelier
    the file's duplicates than relatives, and only the positive evidence of two people
    still holds. A file with real twins or households shows many more such pairs
    than its duplicates explain, and keeps the whole guard. ``unguarded`` is every pair's
    weight before the guards; only pairs that would match count.
    """
    likely = unguarded > 0
    clauses = guard_clauses(gamma, left, right, pairs_left, pairs_right)
    held_any = np.zeros(len(gamma), dtype=bool)
    for clause in clauses:
        held_any |= clause.held
    waived = set(model.waived)
    report: list[Waiver] = []
    for clause in clauses:
        if clause.guard not in model.guards:
            continue
        held = int((clause.held & ~clause.evidence & clause.comparable & likely).sum())
        counterparts = int((clause.counterpart & ~held_any & likely).sum())
        if clause.away is None:
            ratio = clause.m_ratio(model.m)
        else:
            # The rate among the same pairs living apart, where relatives do not crowd.
            telling_away = int((clause.away[0] & likely).sum())
            agreeing_away = int((clause.away[1] & likely).sum())
            if agreeing_away < WAIVE_MIN_COUNTERPARTS:
                report.append(Waiver(clause.name, held, counterparts, 0.0, False))
                continue
            ratio = telling_away / agreeing_away
        expected = counterparts * ratio
        waive = (
            held >= WAIVE_MIN_HELD
            and counterparts >= WAIVE_MIN_COUNTERPARTS
            and expected >= WAIVE_SHARE * held
        )
        if waive:
            waived.add(clause.name)
        report.append(Waiver(clause.name, held, counterparts, expected, waive))
    return replace(model, waived=frozenset(waived)), report


def guarded_weights(
    weights: npt.NDArray[np.float64], guarded: npt.NDArray[np.bool_]
) -> npt.NDArray[np.float64]:
    """The weights with each guarded pair's held at or below GUARD_CEILING (a new array)."""
    out = weights.copy()
    out[guarded] += np.minimum(GUARD_CEILING, GUARD_CEILING - out[guarded])
    return out


def _guard_weight(total_before: float) -> float:
    return min(GUARD_CEILING, GUARD_CEILING - total_before)


# ---------------------------------------------------------------------------------------------
# Training


def _exact_u(values_a: Sequence[str], values_b: Sequence[str] | None) -> float:
    """P(two random records agree exactly | both have a value), from value frequencies.

    Computed from the counts rather than sampled, because it is tiny for dates and
    numbers and a sample would see it too rarely to estimate.
    """
    ca = Counter(v for v in values_a if v)
    na = sum(ca.values())
    if values_b is None:
        if na < 2:
            return 0.01
        return max(sum(c * (c - 1) for c in ca.values()) / (na * (na - 1)), 1e-7)
    cb = Counter(v for v in values_b if v)
    nb = sum(cb.values())
    if not na or not nb:
        return 0.01
    return max(sum(c * cb.get(v, 0) for v, c in ca.items()) / (na * nb), 1e-7)


_EXACT_VALUE = (
    lambda r: r.first,
    lambda r: r.middle,
    lambda r: r.last,
    lambda r: r.dob_text,
    lambda r: r.sex,
    lambda r: r.ssn,
    lambda r: r.street,
    lambda r: r.city,
    lambda r: r.postcode,
    lambda r: r.phone,
)


def estimate_u(
    left: Sequence[Normalized],
    right: Sequence[Normalized] | None = None,
    *,
    sample_pairs: int = 30_000,
    seed: int = 7,
) -> list[list[float]]:
    """u probabilities: how often each level occurs between random (so non-matching) records.

    Exact levels come from value frequencies; the others from a random sample of pairs,
    with one pseudo-count per level so a level the sample never saw is rare, not impossible.
    """
    rng = np.random.default_rng(seed)
    other = right if right is not None else left
    n_left, n_right = len(left), len(other)
    counts = np.ones((N_FIELDS, 8))
    if n_left and n_right:
        ia = rng.integers(0, n_left, sample_pairs)
        ib = rng.integers(0, n_right, sample_pairs)
        if right is None:
            keep = ia != ib
            ia, ib = ia[keep], ib[keep]
        gamma = compare_pairs(left, right, ia, ib)
        for f in range(N_FIELDS):
            column = gamma[:, f]
            seen = np.bincount(column[column > 0], minlength=counts.shape[1])
            counts[f, : len(seen)] += seen
    u = []
    for f, spec in enumerate(FIELDS):
        exact = _exact_u(
            [_EXACT_VALUE[f](r) for r in left],
            None if right is None else [_EXACT_VALUE[f](r) for r in right],
        )
        rest = counts[f, 1 : len(spec.levels)]
        shares = rest / rest.sum()
        u.append([exact, *((1 - exact) * shares).tolist()])
    return u


@dataclass(frozen=True, slots=True)
class TrainingReport:
    iterations: int
    converged: bool
    blocked_match_rate: float
    # Whether m was learnt from this file (EM ran and found duplicates), not the defaults.
    learned: bool = False


def _distinct_rows(
    gamma: npt.NDArray[np.int8],
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int64]]:
    """``np.unique(gamma, axis=0, return_counts=True)``, faster: each row read as one number."""
    if len(gamma) == 0:
        return gamma, np.empty(0, dtype=np.int64)
    base = int(gamma.max()) + 2  # levels run from -1 (missing) up
    if base ** gamma.shape[1] >= 2**62:
        rows, counts = np.unique(gamma, axis=0, return_counts=True)
        return rows, counts
    codes = np.zeros(len(gamma), dtype=np.int64)
    for f in range(gamma.shape[1]):
        codes = codes * base + (gamma[:, f].astype(np.int64) + 1)
    distinct, first, counts = np.unique(codes, return_index=True, return_counts=True)
    return gamma[first], counts


def expectation_maximisation(
    gamma: npt.NDArray[np.int8],
    m: list[list[float]],
    u: list[list[float]],
    prior: float,
    *,
    max_iterations: int = 200,
    tolerance: float = 1e-6,
    update_u: bool = False,
) -> tuple[list[list[float]], list[list[float]], float, TrainingReport]:
    """EM over comparison vectors (rows of levels; -1 missing), no labels needed.

    Works on the distinct vectors with their counts, so millions of pairs cost no more
    than the few thousand patterns they fall into. u stays fixed by default (estimated
    from random pairs), as the blocked pairs over-represent matches.
    """
    patterns, counts = _distinct_rows(gamma)
    counts = counts.astype(float)
    m = [list(x) for x in m]
    u = [list(x) for x in u]
    lam = prior
    converged = False
    iteration = 0
    for iteration in range(1, max_iterations + 1):  # noqa: B007 - reported below
        log_m = np.full(len(patterns), math.log(lam))
        log_u = np.full(len(patterns), math.log(1 - lam))
        for f in range(N_FIELDS):
            column = patterns[:, f]
            present = column >= 0
            mf = np.log(np.maximum(np.asarray(m[f]), _PROB_FLOOR))
            uf = np.log(np.maximum(np.asarray(u[f]), _PROB_FLOOR))
            log_m[present] += mf[column[present]]
            log_u[present] += uf[column[present]]
        posterior = 1.0 / (1.0 + np.exp(np.clip(log_u - log_m, -700, 700)))
        weighted_m = posterior * counts
        weighted_u = (1 - posterior) * counts
        new_lam = float(weighted_m.sum() / counts.sum())
        change = abs(new_lam - lam)
        for f, spec in enumerate(FIELDS):
            column = patterns[:, f]
            n_levels = len(spec.levels)
            level_m = np.bincount(
                column[column >= 0], weights=weighted_m[column >= 0], minlength=n_levels
            )
            if level_m.sum() > 0:
                new_m = (level_m + 1e-3) / (level_m + 1e-3).sum()
                change = max(change, float(np.abs(new_m - np.asarray(m[f])).max()))
                m[f] = new_m.tolist()
            if update_u:
                level_u = np.bincount(
                    column[column >= 0], weights=weighted_u[column >= 0], minlength=n_levels
                )
                if level_u.sum() > 0:
                    u[f] = ((level_u + 1e-3) / (level_u + 1e-3).sum()).tolist()
        lam = min(max(new_lam, 1e-9), 1 - 1e-9)
        if change < tolerance:
            converged = True
            break
    return m, u, lam, TrainingReport(iteration, converged, lam)


def comparison_matrix(
    left: Sequence[Normalized],
    right: Sequence[Normalized],
    pairs_left: npt.NDArray[np.int64],
    pairs_right: npt.NDArray[np.int64],
) -> npt.NDArray[np.int8]:
    """One comparison vector per pair (row k: left[pairs_left[k]] against right[...])."""
    return compare_pairs(left, None if right is left else right, pairs_left, pairs_right)


def _plausible(m: list[list[float]], u: list[list[float]]) -> bool:
    """Matches mostly agree on first name and birth date, and far more than random pairs.

    Where households dominate the data, EM can settle on "same family" (same surname and
    address, any first name) instead of "same person"; that model is rejected here.
    """
    for f in (_FIRST, _LAST, _DOB):
        if m[f][0] < 0.3 or m[f][0] < 20 * u[f][0]:
            return False
    return m[_FIRST][_FIRST_DIFFERENT] < 0.25 and m[_DOB][-1] < 0.25


def train(
    gamma: npt.NDArray[np.int8],
    u: list[list[float]],
    total_pairs: float,
    *,
    start: MatchModel | None = None,
) -> tuple[MatchModel, TrainingReport]:
    """Fit m and the match rate by EM on blocked comparison vectors, with u given.

    The prior returned is for two *random* records: matches found among the blocked pairs
    spread over every possible pair, which is what calibrates the probability.
    """
    start = start or MatchModel.default()
    if len(gamma) == 0:
        return MatchModel(m=start.m, u=u, prior=start.prior, guards=start.guards), TrainingReport(
            0, True, 0.0
        )
    # u is re-estimated inside EM too, so that blocked non-matches (which agree on the
    # blocking fields far more than random pairs) do not get counted as matches; the
    # random-pair u is what scores use, as it describes the pairs a search meets.
    m, _blocked_u, lam, report = expectation_maximisation(gamma, start.m, u, 0.05, update_u=True)
    if not _plausible(m, u):
        # EM found some other structure (one town, one family), not duplicates: the file
        # has few duplicates or many households. Keep the starting m rather than learn that.
        return MatchModel(m=start.m, u=u, prior=start.prior, guards=start.guards), TrainingReport(
            report.iterations, False, lam
        )
    expected_matches = lam * len(gamma)
    prior = min(max(expected_matches / max(total_pairs, 1.0), 1e-12), 0.5)
    return MatchModel(m=m, u=u, prior=prior, guards=start.guards), replace(report, learned=True)
