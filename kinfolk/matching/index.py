"""A persistent, incremental search index for the person registry.

Storage is one SQLite file: the normalised record, an inverted index from hashed
blocking keys to records (a clustered WITHOUT ROWID B-tree, so one key is one range
read), and first/last name counts for the term-frequency adjustment. SQLite because it
needs no server, updates one record in one transaction, survives a restart as is, and
answers a key lookup in microseconds at millions of rows. Measured by
``bench/matching.py`` at 1,000,000 persons (2 shared cores): built in about a minute,
371 MB, a typo'd query p50 4 ms / p95 6 ms, recall@10 0.986, one update under 2 ms —
against 182 ms for Splink's single-record search on such a machine.

A query gathers every record sharing a key with it (keys widened for nicknames and
neighbouring birth years), keeps the records sharing the most keys, scores those with
the Fellegi–Sunter model and returns the best with their probability and explanation.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import sqlite3
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from kinfolk.matching.blocking import query_keys, record_keys
from kinfolk.matching.compare import compare
from kinfolk.matching.model import (
    MatchModel,
    Score,
    TermFrequencies,
    TrainingReport,
    comparison_matrix,
    estimate_u,
    train,
)
from kinfolk.matching.normalize import Normalized, normalize
from kinfolk.matching.records import PersonRecord

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    rid INTEGER PRIMARY KEY, record_id TEXT NOT NULL UNIQUE, norm TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS postings (
    h INTEGER NOT NULL, rid INTEGER NOT NULL, PRIMARY KEY (h, rid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS names (
    field TEXT NOT NULL, value TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (field, value)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO counters (name, n) VALUES
    ('size', 0), ('first_name', 0), ('last_name', 0), ('model_version', 0);
"""
_FIELDS = tuple(f.name for f in fields(Normalized))
_INT_FIELDS = frozenset({"dob_year", "dob_month", "dob_day"})
_SEP = "\x1f"
# A key shared by more records than this (a common name in a large postcode) is skipped
# for that query: it cannot rank anything and would cost the most time.
MAX_POSTINGS = 2000
# How many of the records sharing the most keys get scored in full.
MAX_CANDIDATES = 300
# Bump when normalisation or blocking keys change: an index built by another version
# holds keys this one would never look up, so it must be rebuilt, not silently used.
FORMAT_VERSION = "1"


class IndexFormatError(RuntimeError):
    """The index file was built by an incompatible version; rebuild it from the registry."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """One search result: the record, its match probability and the reasons."""

    record_id: str
    probability: float
    score: Score


def _hash(key: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(key.encode(), digest_size=8).digest(), "little", signed=True
    )


def _dump(r: Normalized) -> str:
    return _SEP.join(str(getattr(r, name)) for name in _FIELDS)


def _load(text: str) -> Normalized:
    values = text.split(_SEP)
    kwargs = {
        name: int(value) if name in _INT_FIELDS else value
        for name, value in zip(_FIELDS, values, strict=True)
    }
    return Normalized(**kwargs)  # type: ignore[arg-type]


class SearchIndex:
    """Ranked person search over a SQLite file; add, update and remove keep it current.

    One instance may be shared by threads (calls are serialised). ``model`` replaces the
    stored model; otherwise the one saved by ``train`` is used, or the defaults.
    """

    def __init__(self, path: str | Path, *, model: MatchModel | None = None) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._db.execute(
            "INSERT OR IGNORE INTO meta (name, value) VALUES ('format', ?)", (FORMAT_VERSION,)
        )
        (stored_format,) = self._db.execute(
            "SELECT value FROM meta WHERE name = 'format'"
        ).fetchone()
        if stored_format != FORMAT_VERSION:
            self._db.close()
            raise IndexFormatError(
                f"{self.path} is format {stored_format}, this code reads {FORMAT_VERSION}: "
                "delete it and add every person again"
            )
        # Several processes (web workers) may share the file, so counts and the trained
        # model are read from it when needed rather than kept in memory.
        self._fixed_model = model
        self._model_version = -1
        self._model = model or MatchModel.default()

    @property
    def model(self) -> MatchModel:
        """The model in use: the one given, else the last one ``train`` saved, else defaults."""
        if self._fixed_model is not None:
            return self._fixed_model
        version = self._counter("model_version")
        if version != self._model_version:
            stored = self._db.execute("SELECT value FROM meta WHERE name = 'model'").fetchone()
            self._model = (
                MatchModel.from_dict(json.loads(stored[0])) if stored else MatchModel.default()
            )
            self._model_version = version
        return self._model

    def _counter(self, name: str) -> int:
        row = self._db.execute("SELECT n FROM counters WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def _bump(self, name: str, by: int) -> None:
        self._db.execute("UPDATE counters SET n = n + ? WHERE name = ?", (by, name))

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        with self._lock:
            return self._counter("size")

    def __contains__(self, record_id: object) -> bool:
        row = self._db.execute("SELECT 1 FROM records WHERE record_id = ?", (record_id,))
        return row.fetchone() is not None

    # -- writes --------------------------------------------------------------------------------

    def add(self, record: PersonRecord) -> None:
        """Add a record, or replace the stored one with the same record_id."""
        self.add_many([record])

    update = add

    def add_many(self, records: Iterable[PersonRecord], *, batch: int = 20_000) -> int:
        """Add or replace many records; in batches of one transaction each. Returns the count."""
        total = 0
        chunk: list[PersonRecord] = []
        for record in records:
            chunk.append(record)
            if len(chunk) >= batch:
                total += self._add_batch(chunk)
                chunk = []
        if chunk:
            total += self._add_batch(chunk)
        return total

    def _add_batch(self, records: Sequence[PersonRecord]) -> int:
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                self._remove_ids(r.record_id for r in records)
                (next_rid,) = db.execute("SELECT COALESCE(MAX(rid), 0) + 1 FROM records").fetchone()
                rows: list[tuple[int, str, str]] = []
                hashes: list[int] = []
                rids: list[int] = []
                names: Counter[tuple[str, str]] = Counter()
                seen: set[str] = set()
                for record in records:
                    if record.record_id in seen:
                        raise ValueError("the same record_id twice in one batch")
                    seen.add(record.record_id)
                    norm = normalize(record)
                    rid = next_rid + len(rows)
                    rows.append((rid, record.record_id, _dump(norm)))
                    for key in record_keys(norm):
                        hashes.append(_hash(key))
                        rids.append(rid)
                    if norm.first:
                        names["first_name", norm.first] += 1
                    if norm.last:
                        names["last_name", norm.last] += 1
                db.executemany("INSERT INTO records (rid, record_id, norm) VALUES (?, ?, ?)", rows)
                # Sorted postings append to the B-tree instead of splitting pages at random.
                order = np.lexsort((np.asarray(rids), np.asarray(hashes)))
                h_sorted = np.asarray(hashes, dtype=np.int64)[order].tolist()
                r_sorted = np.asarray(rids, dtype=np.int64)[order].tolist()
                db.executemany(
                    "INSERT OR IGNORE INTO postings (h, rid) VALUES (?, ?)",
                    zip(h_sorted, r_sorted, strict=True),
                )
                self._count_names(names, 1)
                self._bump("size", len(rows))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return len(rows)

    def remove(self, record_id: str) -> bool:
        """Remove a record (merged away or deleted); False when it was not indexed."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                removed = self._remove_ids([record_id])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return removed > 0

    def _remove_ids(self, record_ids: Iterable[str]) -> int:
        db = self._db
        names: Counter[tuple[str, str]] = Counter()
        removed = 0
        for record_id in record_ids:
            row = db.execute(
                "SELECT rid, norm FROM records WHERE record_id = ?", (record_id,)
            ).fetchone()
            if row is None:
                continue
            rid, text = row
            norm = _load(text)
            db.executemany(
                "DELETE FROM postings WHERE h = ? AND rid = ?",
                [(_hash(key), rid) for key in record_keys(norm)],
            )
            db.execute("DELETE FROM records WHERE rid = ?", (rid,))
            if norm.first:
                names["first_name", norm.first] += 1
            if norm.last:
                names["last_name", norm.last] += 1
            removed += 1
        self._count_names(names, -1)
        self._bump("size", -removed)
        return removed

    def _count_names(self, names: Counter[tuple[str, str]], sign: int) -> None:
        if not names:
            return
        self._db.executemany(
            "INSERT INTO names (field, value, n) VALUES (?, ?, ?) "
            "ON CONFLICT (field, value) DO UPDATE SET n = n + excluded.n",
            [(f, v, sign * n) for (f, v), n in names.items()],
        )
        self._db.executemany(
            "DELETE FROM names WHERE field = ? AND value = ? AND n <= 0", list(names)
        )
        for field_name in ("first_name", "last_name"):
            total = sum(n for (f, _), n in names.items() if f == field_name)
            if total:
                self._bump(field_name, sign * total)

    # -- reads ---------------------------------------------------------------------------------

    def _candidates(self, keys: Sequence[str], max_candidates: int) -> list[int]:
        # Each shared key counts in inverse proportion to how many records share it, so
        # one rare key (a full birth date, an SSN) outranks a few common ones.
        hits: defaultdict[int, float] = defaultdict(float)
        for key in keys:
            rows = self._db.execute(
                "SELECT rid FROM postings WHERE h = ? LIMIT ?", (_hash(key), MAX_POSTINGS + 1)
            ).fetchall()
            if not rows or len(rows) > MAX_POSTINGS:
                continue
            share = 1.0 / len(rows)
            for (rid,) in rows:
                hits[rid] += share
        if len(hits) <= max_candidates:
            return list(hits)
        return heapq.nlargest(max_candidates, hits, key=hits.__getitem__)

    def _records(self, rids: Sequence[int]) -> Iterator[tuple[str, Normalized]]:
        for start in range(0, len(rids), 500):
            part = rids[start : start + 500]
            marks = ",".join("?" * len(part))
            query = f"SELECT record_id, norm FROM records WHERE rid IN ({marks})"  # noqa: S608
            for record_id, text in self._db.execute(query, part):
                yield record_id, _load(text)

    def search(
        self,
        query: PersonRecord,
        *,
        limit: int = 10,
        min_probability: float = 0.0,
        prior: float | None = None,
        max_candidates: int = MAX_CANDIDATES,
    ) -> list[Candidate]:
        """The best-matching records for what is known of a person, best first.

        ``query.record_id`` is ignored; any field may be empty; ``ssn`` may be the last four
        digits. The default prior is one in the index size: the chance a given record is
        the person asked about, which makes the probability mean what it says.
        """
        q = normalize(query)
        with self._lock:
            rids = self._candidates(query_keys(q), max_candidates)
            records = list(self._records(rids))
            model, tf = self.model, self._frequencies(q)
            size = self._counter("size")
        prior = prior if prior is not None else 1.0 / max(size, 1)
        scored = []
        for record_id, r in records:
            levels = compare(q, r)
            scored.append((model.match_weight(levels, q, r, tf, prior), record_id, r, levels))
        scored.sort(key=lambda item: (-item[0], item[1]))
        out = []
        for _, record_id, r, levels in scored[:limit]:
            score = model.score_levels(levels, q, r, tf, prior)
            if score.probability >= min_probability:
                out.append(Candidate(record_id, score.probability, score))
        return out

    def score(self, query: PersonRecord, record_id: str) -> Score | None:
        """The score and explanation of one stored record against a query (None if absent)."""
        q = normalize(query)
        with self._lock:
            row = self._db.execute("SELECT norm FROM records WHERE record_id = ?", (record_id,))
            found = row.fetchone()
            if found is None:
                return None
            prior = 1.0 / max(self._counter("size"), 1)
            model, tf = self.model, self._frequencies(q)
        return model.score(q, _load(found[0]), tf, prior)

    def _frequencies(self, q: Normalized) -> TermFrequencies:
        """The name counts a query's score needs (only its own names can agree exactly)."""
        tf = TermFrequencies()
        for field_name, value in (("first_name", q.first), ("last_name", q.last)):
            tf.totals[field_name] = self._counter(field_name)
            if value:
                row = self._db.execute(
                    "SELECT n FROM names WHERE field = ? AND value = ?", (field_name, value)
                ).fetchone()
                if row:
                    tf.counts[field_name][value] = int(row[0])
        return tf

    # -- training ------------------------------------------------------------------------------

    def train(self, *, sample: int = 3000, seed: int = 7) -> TrainingReport:
        """Re-estimate the model by EM from the stored records and save it; no labels needed.

        A random sample of records is compared with the records sharing a key with each
        (their blocked pairs) for m; u comes from random pairs of the same sample.
        """
        rng = np.random.default_rng(seed)
        with self._lock:
            (max_rid,) = self._db.execute("SELECT COALESCE(MAX(rid), 0) FROM records").fetchone()
            picks = sorted(set(rng.integers(1, max_rid + 1, sample).tolist())) if max_rid else []
            base = dict(self._records(picks))
            left: list[Normalized] = []
            right: list[Normalized] = []
            for record_id, r in base.items():
                rids = self._candidates(record_keys(r), 50)
                for other_id, other in self._records(rids):
                    if other_id != record_id:
                        left.append(r)
                        right.append(other)
        sample_records = list(base.values())
        u = estimate_u(sample_records, sample_pairs=20_000, seed=seed)
        index = np.arange(len(left), dtype=np.int64)
        gamma = comparison_matrix(left, right, index, index)
        size = len(self)
        model, report = train(gamma, u, max(size, 1) ** 2 / 2, start=self.model)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT INTO meta (name, value) VALUES ('model', ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (json.dumps(model.to_dict()),),
            )
            self._bump("model_version", 1)
            self._db.execute("COMMIT")
        return report
