"""Turning scored pairs into clusters (dedupe) and one-to-one links (link)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def connected_components(
    n: int,
    left: npt.NDArray[np.int64],
    right: npt.NDArray[np.int64],
    probability: npt.NDArray[np.float64],
    threshold: float,
    cannot_link: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None,
) -> list[int]:
    """Cluster label per record: records joined by pairs at or above the threshold.

    Pairs are joined strongest first, and a weak pair may not join two clusters that
    already hold several records each unless it is strong: this stops one borderline
    pair chaining two families into one. ``cannot_link`` pairs (twins, say) never end
    up in one cluster, even through a third record that matches both (a "Baby Okafor"
    with no first name matches either twin).
    """
    uf = _UnionFind(n)
    size = [1] * n
    apart: dict[int, set[int]] = {}
    if cannot_link is not None:
        for a, b in zip(cannot_link[0].tolist(), cannot_link[1].tolist(), strict=True):
            apart.setdefault(a, set()).add(b)
            apart.setdefault(b, set()).add(a)
    members: dict[int, list[int]] = {i: [i] for i in apart}
    # Only pairs at or above the threshold join anything: sort those alone.
    above = np.flatnonzero(probability >= threshold)
    order = above[np.argsort(-probability[above], kind="stable")]
    for k in order.tolist():
        p = float(probability[k])
        ra, rb = uf.find(int(left[k])), uf.find(int(right[k]))
        if ra == rb:
            continue
        if size[ra] > 1 and size[rb] > 1 and p < (1 + threshold) / 2:
            continue
        if apart and _kept_apart(uf, members, apart, ra, rb):
            continue
        uf.union(ra, rb)
        root = uf.find(ra)
        size[root] = size[ra] + size[rb]
        if apart:
            joined = members.pop(ra, []) + members.pop(rb, [])
            if joined:
                members[root] = joined
    return [uf.find(i) for i in range(n)]


def _kept_apart(
    uf: _UnionFind, members: dict[int, list[int]], apart: dict[int, set[int]], ra: int, rb: int
) -> bool:
    """Whether a record of cluster ra must stay apart from one of cluster rb."""
    if ra not in members or rb not in members:
        return False  # one of them holds no record that must stay apart from anyone
    if len(members[ra]) > len(members[rb]):
        ra, rb = rb, ra  # the relation is symmetric: walk the smaller side
    find = uf.find
    for x in members[ra]:
        if any(find(y) == rb for y in apart[x]):
            return True
    return False


def one_to_one(
    left: npt.NDArray[np.int64],
    right: npt.NDArray[np.int64],
    probability: npt.NDArray[np.float64],
    threshold: float,
) -> npt.NDArray[np.int64]:
    """Indices of the pairs kept when each record may link to at most one on the other side.

    Greedy from the strongest pair: within one file a person appears once, so a second,
    weaker candidate for the same record is the wrong one.
    """
    used_left: set[int] = set()
    used_right: set[int] = set()
    kept = []
    for k in np.argsort(-probability, kind="stable").tolist():
        if probability[k] < threshold:
            break
        a, b = int(left[k]), int(right[k])
        if a in used_left or b in used_right:
            continue
        used_left.add(a)
        used_right.add(b)
        kept.append(k)
    return np.asarray(kept, dtype=np.int64)
