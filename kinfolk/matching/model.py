"""The Fellegi–Sunter model: m and u per comparison level, EM training, scores with reasons.

A score is a sum of log2 Bayes factors — the prior odds plus one contribution per field —
so the explanation shown to a worker adds up to the score exactly, and the match
probability is that sum turned back into a probability.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from kinfolk.matching.compare import FIELD_INDEX, FIELDS, MISSING, N_FIELDS, compare
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
#   not equal (different, close, or unknown): a sibling or parent;
# - generation: birth dates a generation apart with "Jr"/"Sr" differing or one household.
# A guard holds the match weight at or below GUARD_CEILING (probability under 0.1%), and
# always counts at least GUARD_CEILING itself, so the explanation names it.
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
        return {"m": self.m, "u": self.u, "prior": self.prior, "guards": sorted(self.guards)}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> MatchModel:
        guards = frozenset(data.get("guards", GUARDS))  # type: ignore[call-overload]
        return cls(
            m=data["m"],  # type: ignore[arg-type]
            u=data["u"],  # type: ignore[arg-type]
            prior=float(data["prior"]),  # type: ignore[arg-type]
            guards=guards & GUARDS,
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
        if guard_reason(levels, a, b, self.guards):
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
        for f, attribute in ((_FIRST, "first"), (_LAST, "last")):
            adjustments: dict[str, float] = {}
            for k in np.flatnonzero(gamma[:, f] == 0).tolist():
                value = getattr(left[int(pairs_left[k])], attribute)
                if value != getattr(right[int(pairs_right[k])], attribute):
                    continue
                if value not in adjustments:
                    adjustments[value] = self._tf_adjustment(f, value, tf)
                total[k] += adjustments[value]
        if not apply_guards:
            return total
        guarded = self.guard_mask(gamma, left, right, pairs_left, pairs_right)
        total[guarded] += np.minimum(GUARD_CEILING, GUARD_CEILING - total[guarded])
        return total

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
        first_differs = gamma[:, _FIRST] == _FIRST_DIFFERENT
        household = np.isin(gamma[:, _STREET], (0, 1)) | (gamma[:, _PHONE] == 0)
        if "twins" in self.guards:
            guarded |= (
                first_differs
                & np.isin(gamma[:, _DOB], (0, 1))
                & np.isin(gamma[:, _LAST], (0, 1, 2))
            )
        if "household" in self.guards:
            guarded |= first_differs & ~np.isin(gamma[:, _DOB], (0, 1)) & household
            # Siblings with alike names ("Elijah" and "Elizabeth") share a home too: a first
            # name that is not the same, with birth dates over a year apart or another sex.
            first_not_same = gamma[:, _FIRST] > 0
            far_or_other = (gamma[:, _DOB] == _DOB_FAR) | (gamma[:, _SEX] == 1)
            guarded |= first_not_same & far_or_other & household
        if "generation" in self.guards:
            year_l = np.asarray([r.dob_year for r in left])[pairs_left]
            year_r = np.asarray([r.dob_year for r in right])[pairs_right]
            suffix_l = np.asarray([r.suffix for r in left])[pairs_left]
            suffix_r = np.asarray([r.suffix for r in right])[pairs_right]
            guarded |= (
                ((suffix_l != suffix_r) | household)
                & (year_l > 0)
                & (year_r > 0)
                & (np.abs(year_l - year_r) >= GENERATION_GAP_YEARS)
            )
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
        reason = guard_reason(levels, a, b, self.guards)
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
    levels: Sequence[int], a: Normalized, b: Normalized, guards: frozenset[str] = GUARDS
) -> str:
    """Why the pair must be two people, or "" when none of ``guards`` applies."""
    first_differs = levels[_FIRST] == _FIRST_DIFFERENT
    if (
        "twins" in guards
        and first_differs
        and levels[_DOB] in (0, 1)
        and levels[_LAST] in (0, 1, 2)
    ):
        return "same birth date and surname, different first name: twins or siblings"
    household = levels[_STREET] in (0, 1) or levels[_PHONE] == 0
    if "household" in guards and first_differs and levels[_DOB] not in (0, 1) and household:
        return "different first name, not the same birth date, one home: two of one household"
    if (
        "household" in guards
        and household
        and levels[_FIRST] > 0
        and (levels[_DOB] == _DOB_FAR or levels[_SEX] == 1)
    ):
        return "not the same first name, born over a year apart or another sex, one home: siblings"
    if (
        "generation" in guards
        and (a.suffix != b.suffix or household)
        and a.dob_year
        and b.dob_year
        and abs(a.dob_year - b.dob_year) >= GENERATION_GAP_YEARS
    ):
        where = "different name suffixes" if a.suffix != b.suffix else "one home"
        years = abs(a.dob_year - b.dob_year)
        return f"born {years} years apart, {where}: parent and child"
    return ""


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
        for i, j in zip(ia.tolist(), ib.tolist(), strict=True):
            if right is None and i == j:
                continue
            for f, level in enumerate(compare(left[i], other[j])):
                if level > 0:
                    counts[f, level] += 1
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
    patterns, counts = np.unique(gamma, axis=0, return_counts=True)
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
    gamma = np.empty((len(pairs_left), N_FIELDS), dtype=np.int8)
    for row, (i, j) in enumerate(zip(pairs_left.tolist(), pairs_right.tolist(), strict=True)):
        gamma[row] = compare(left[i], right[j])
    return gamma


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
    return MatchModel(m=m, u=u, prior=prior, guards=start.guards), report
