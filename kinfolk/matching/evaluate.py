"""Quality measures for matching against a known truth, and FEBRL test data as records.

Shared by the benchmark and the quality test so both measure the same way.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kinfolk.matching.records import PersonRecord


@dataclass(frozen=True, slots=True)
class Quality:
    precision: float
    recall: float
    f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def pairs_from_clusters(cluster_of: Mapping[str, str]) -> set[tuple[str, str]]:
    members: defaultdict[str, list[str]] = defaultdict(list)
    for record_id, cluster in cluster_of.items():
        members[cluster].append(record_id)
    out: set[tuple[str, str]] = set()
    for ids in members.values():
        ids.sort()
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                out.add((a, b))
    return out


def bcubed(predicted: Mapping[str, str], truth: Mapping[str, str]) -> tuple[float, float]:
    """B-cubed precision and recall: per record, the overlap of its predicted and true cluster."""
    pred_members: defaultdict[str, set[str]] = defaultdict(set)
    true_members: defaultdict[str, set[str]] = defaultdict(set)
    for rid, c in predicted.items():
        pred_members[c].add(rid)
    for rid, c in truth.items():
        true_members[c].add(rid)
    precision = recall = 0.0
    for rid in truth:
        p = pred_members[predicted[rid]]
        t = true_members[truth[rid]]
        overlap = len(p & t)
        precision += overlap / len(p)
        recall += overlap / len(t)
    n = max(len(truth), 1)
    return precision / n, recall / n


def cluster_quality(predicted: Mapping[str, str], truth: Mapping[str, str]) -> Quality:
    """Pairwise (all pairs implied by the clusters) and B-cubed quality of a dedupe."""
    pred_pairs = pairs_from_clusters(predicted)
    true_pairs = pairs_from_clusters(truth)
    hits = len(pred_pairs & true_pairs)
    precision = hits / len(pred_pairs) if pred_pairs else 1.0
    recall = hits / len(true_pairs) if true_pairs else 1.0
    bp, br = bcubed(predicted, truth)
    return Quality(precision, recall, _f1(precision, recall), bp, br, _f1(bp, br))


def link_quality(
    predicted: Iterable[tuple[str, str]],
    truth: Iterable[tuple[str, str]],
    left_ids: Iterable[str],
    right_ids: Iterable[str],
) -> Quality:
    """Pairwise quality of links, and B-cubed over the clusters the links form."""
    pred = set(predicted)
    true = set(truth)
    hits = len(pred & true)
    precision = hits / len(pred) if pred else 1.0
    recall = hits / len(true) if true else 1.0

    def clusters(links: set[tuple[str, str]]) -> dict[str, str]:
        out = {f"L{x}": f"L{x}" for x in left_ids}
        out.update({f"R{x}": f"R{x}" for x in right_ids})
        for a, b in sorted(links):
            out[f"R{b}"] = out[f"L{a}"]
        return out

    bp, br = bcubed(clusters(pred), clusters(true))
    return Quality(precision, recall, _f1(precision, recall), bp, br, _f1(bp, br))


def febrl_records(frame: Any) -> list[PersonRecord]:
    """FEBRL rows as person records, the SSN column dropped as the benchmark requires.

    FEBRL's invalid dates (its corruption makes some) become missing, as an import would
    refuse them; the same records go to every matcher compared.
    """
    out = []
    for rec_id, row in frame.iterrows():

        def value(name: str, row: Any = row) -> str:
            v = row.get(name)
            return "" if v is None or v != v else str(v).strip()

        dob_text = value("date_of_birth")
        dob = None
        if len(dob_text) == 8 and dob_text.isdigit():
            try:
                dob = dt.date(int(dob_text[:4]), int(dob_text[4:6]), int(dob_text[6:]))
            except ValueError:
                dob = None
        street = " ".join(x for x in (value("street_number"), value("address_1")) if x)
        if value("address_2"):
            street = f"{street}, {value('address_2')}" if street else value("address_2")
        out.append(
            PersonRecord(
                record_id=str(rec_id),
                first_name=value("given_name"),
                last_name=value("surname"),
                date_of_birth=dob,
                street=street,
                city=value("suburb"),
                state=value("state"),
                postcode=value("postcode"),
            )
        )
    return out


def febrl_entity(record_id: str) -> str:
    """FEBRL ids are ``rec-123-org`` / ``rec-123-dup-0``: the number is the person."""
    return record_id.split("-")[1]


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    low: float
    high: float
    pairs: int
    mean_probability: float
    observed_rate: float


def calibration(
    scored: Iterable[tuple[float, bool]],
    edges: tuple[float, ...] = (0.0, 0.01, 0.1, 0.5, 0.9, 0.99, 1.0),
) -> list[CalibrationBin]:
    """Mean predicted probability against the observed share of true matches, per bin."""
    bins: list[list[tuple[float, bool]]] = [[] for _ in edges[:-1]]
    for probability, is_match in scored:
        for i in range(len(edges) - 1):
            if edges[i] <= probability < edges[i + 1] or (
                i == len(edges) - 2 and probability == edges[-1]
            ):
                bins[i].append((probability, is_match))
                break
    out = []
    for i, members in enumerate(bins):
        if members:
            mean = sum(p for p, _ in members) / len(members)
            rate = sum(1 for _, m in members if m) / len(members)
            out.append(CalibrationBin(edges[i], edges[i + 1], len(members), mean, rate))
    return out
