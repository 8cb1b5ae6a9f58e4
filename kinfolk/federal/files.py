"""AFCARS and NCANDS files from the federal-shaped tables, and back.

The files are delimited text (CSV, one header row of codebook element names, ``\\n`` line ends,
ISO dates), not the codebooks' fixed-width positional layouts: the element *names* and *codes* are
the federal ones, so a state can map them to its submission layout column by column. Element
numbers cited below are from the NCANDS Child File Codebook and from the AFCARS foster-care
data elements of the 1993 rule (45 CFR 1355, Appendix A, numbered 1-66 as in the detailed
foster-care element list the Child Welfare Policy Manual cites, e.g. 1.2B.7 "Element Numbers
23, 24, and 41" for the date of placement in the current setting, the number of placements and
the current placement setting, and as in NDACAN's foster-care file codebook), the layout the
legacy semi-annual files use. The 2020 rule (45 CFR 1355.44) names its elements by paragraph,
not by number, so it gives no numbers to cite.

Exports are deterministic (rows sorted by their keys, fixed formatting) and validated on the way
out (the tables are checked with :func:`conform_tables`, and a report child with more than the
four maltreatments a Child File record holds is refused). ``export → import → export`` gives
identical bytes.

What each file cannot carry is listed in ``LOSSES`` below (and FILES.md beside this module), and
``kinfolk federal import`` prints it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from kinfolk.federal.tables import (
    ARROW_SCHEMAS,
    RACE_COLUMNS,
    TABLE_NAMES,
    TableError,
    conform_tables,
)

# NCANDS Child File elements (number: name) used here.
NCANDS_ELEMENTS = (
    (3, "RPTID"),  # report id
    (4, "CHID"),  # child id
    (5, "RPTCNTY"),  # county of report
    (6, "RPTDT"),  # report date
    (12, "CHAGE"),  # child age at report (77 unborn, 99 unknown)
    (13, "CHBDATE"),  # child date of birth
    (14, "CHSEX"),  # 1 male, 2 female, 9 unknown
    (15, "CHRACAI"),  # race flags: 1 yes, 2 no
    (16, "CHRACAS"),
    (17, "CHRACBL"),
    (18, "CHRACNH"),
    (19, "CHRACWH"),
    (20, "CHRACUD"),
    (21, "CHETHN"),  # Hispanic: 1 yes, 2 no, 9 unknown
    (26, "CHMAL1"),  # maltreatment type 1..9
    (27, "MAL1LEV"),  # maltreatment disposition level 1..9, 99
    (28, "CHMAL2"),
    (29, "MAL2LEV"),
    (30, "CHMAL3"),
    (31, "MAL3LEV"),
    (32, "CHMAL4"),
    (33, "MAL4LEV"),
)
# Incident date is not one of the numbered Child File elements above; Kinfolk carries it in an
# extension column so maltreatment-in-care and recurrence survive the round trip.
NCANDS_EXTENSIONS = ("KF_INCIDDT",)
NCANDS_HEADER = tuple(name for _, name in NCANDS_ELEMENTS) + NCANDS_EXTENSIONS
MAX_MALTREATMENTS = 4

# AFCARS foster-care file elements (number: name) used here.
AFCARS_ELEMENTS = (
    (3, "FIPSCODE"),  # local agency (Kinfolk: the episode's county)
    (4, "RECNUMBR"),  # record number (child id)
    (6, "DOB"),
    (7, "SEX"),  # 1 male, 2 female
    (8, "AMIAKN"),  # race flags 8a-8f: 0 no, 1 yes
    (8, "ASIAN"),
    (8, "BLKAFRAM"),
    (8, "HAWAIIPI"),
    (8, "WHITE"),
    (8, "UNTODETM"),
    (9, "HISORGIN"),  # 1 yes, 2 no, 3 unable to determine
    (21, "LATREMDT"),  # date of latest removal (the episode's removal date)
    (23, "CURSETDT"),  # date of placement in the setting (one row per setting)
    (41, "CURPLSET"),  # placement setting 1..8
    (56, "DODFCDT"),  # date of discharge
    (58, "DISREASN"),  # reason for discharge 1..8 (0 = not discharged)
)
AFCARS_EXTENSIONS = ("KF_OFFICE", "KF_CIRCUIT", "KF_TEMPORARY", "KF_PROVIDER")
AFCARS_HEADER = tuple(name for _, name in AFCARS_ELEMENTS) + AFCARS_EXTENSIONS

LOSSES = {
    "ncands": (
        "The Child File holds only reports: episodes and placements are not in it.",
        "Children who never appear in a report are not in it.",
        "A report's county (RPTCNTY) is kept; office and circuit are not.",
        "More than four maltreatments for one child in one report cannot be written (refused).",
    ),
    "afcars": (
        "The foster-care file holds children in care: reports are not in it, nor children "
        "who never entered care.",
        "Sex 9 (unknown) has no AFCARS code and is written blank.",
        "Placement end dates are not written: a setting ends when the next begins.",
    ),
    "afcars-legacy": (
        "Only the latest removal and the current setting on each report date are known: "
        "settings that began and ended between two report dates are lost, so placement "
        "stability is undercounted.",
        "Earlier removals appear only through DLSTFCDT (their removal dates are unknown); "
        "re-entry can be computed only when the earlier episode is in an earlier file.",
        "Provider ids, temporary stays and trial-home-visit start dates before the last "
        "report date are not known.",
    ),
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _write(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(list(header))
    for row in rows:
        writer.writerow([_text(v) for v in row])
    return out.getvalue().encode("utf-8")


def _read(data: bytes, header: tuple[str, ...], file: str) -> list[dict[str, str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TableError(f"not UTF-8 text ({exc.reason})", file=file) from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = [name for name in header if name not in (reader.fieldnames or [])]
    if missing:
        raise TableError("required element is missing", file=file, line=1, column=missing[0])
    return list(reader)


def _age(dob: dt.date | None, on: dt.date) -> int:
    if dob is None:
        return 99
    if on < dob:
        return 77
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def _children_by_id(table: pa.Table) -> dict[str, dict[str, Any]]:
    return {row["child_id"]: row for row in table.to_pylist()}


def _ncands_flag(value: int | None) -> int | None:
    return None if value is None else (1 if value == 1 else 2)


def export_ncands(tables: Mapping[str, pa.Table]) -> bytes:
    """The NCANDS Child File: one record per report and child, up to four maltreatments."""
    canonical = conform_tables(tables)
    children = _children_by_id(canonical["children"])
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in canonical["reports"].to_pylist():
        grouped[(row["report_id"], row["child_id"])].append(row)
    out_rows = []
    for key in sorted(grouped):
        rows = sorted(grouped[key], key=lambda r: (r["maltreatment_type"], r["maltreatment_level"]))
        if len(rows) > MAX_MALTREATMENTS:
            raise TableError(
                f"report {key[0]!r} child {key[1]!r} has {len(rows)} maltreatments; "
                f"the Child File holds {MAX_MALTREATMENTS}",
                file="reports",
                column="maltreatment_type",
            )
        first = rows[0]
        child = children.get(key[1], {})
        dob = child.get("date_of_birth")
        ethnicity = child.get("hispanic")
        maltreatments: list[Any] = []
        for index in range(MAX_MALTREATMENTS):
            if index < len(rows):
                maltreatments += [
                    rows[index]["maltreatment_type"],
                    rows[index]["maltreatment_level"],
                ]
            else:
                maltreatments += [None, None]
        out_rows.append(
            [
                key[0],
                key[1],
                first["county"],
                first["report_date"],
                _age(dob, first["report_date"]),
                dob,
                child.get("sex"),
                *(_ncands_flag(child.get(column)) for column in RACE_COLUMNS),
                {1: 1, 2: 2, 3: 9}.get(ethnicity) if ethnicity is not None else None,
                *maltreatments,
                first["incident_date"],
            ]
        )
    return _write(NCANDS_HEADER, out_rows)


def _int(value: str) -> int | None:
    return int(value) if value.strip() else None


def _date(value: str) -> dt.date | None:
    return dt.date.fromisoformat(value) if value.strip() else None


def import_ncands(data: bytes) -> dict[str, pa.Table]:
    """Reports (and the children they describe) from an NCANDS Child File export."""
    records = _read(data, NCANDS_HEADER, "ncands")
    reports: list[dict[str, Any]] = []
    children: dict[str, dict[str, Any]] = {}
    for line, record in enumerate(records, start=2):
        try:
            for index in range(1, MAX_MALTREATMENTS + 1):
                kind = _int(record[f"CHMAL{index}"])
                if kind is None:
                    continue
                reports.append(
                    {
                        "report_id": record["RPTID"],
                        "child_id": record["CHID"],
                        "report_date": _date(record["RPTDT"]),
                        "incident_date": _date(record["KF_INCIDDT"]),
                        "maltreatment_type": kind,
                        "maltreatment_level": _int(record[f"MAL{index}LEV"]),
                        "county": record["RPTCNTY"] or None,
                    }
                )
            ethnicity = _int(record["CHETHN"])
            children.setdefault(
                record["CHID"],
                {
                    "child_id": record["CHID"],
                    "date_of_birth": _date(record["CHBDATE"]),
                    "sex": _int(record["CHSEX"]),
                    **{
                        column: (None if flag is None else int(flag == 1))
                        for column, flag in zip(
                            RACE_COLUMNS,
                            (
                                _int(record[n])
                                for n in (
                                    "CHRACAI",
                                    "CHRACAS",
                                    "CHRACBL",
                                    "CHRACNH",
                                    "CHRACWH",
                                    "CHRACUD",
                                )
                            ),
                            strict=True,
                        )
                    },
                    "hispanic": {1: 1, 2: 2, 9: 3}.get(ethnicity) if ethnicity else None,
                },
            )
        except ValueError as exc:
            raise TableError(str(exc), file="ncands", line=line) from exc
    tables = _empty()
    tables["reports"] = pa.Table.from_pylist(reports, schema=ARROW_SCHEMAS["reports"])
    tables["children"] = pa.Table.from_pylist(
        [children[k] for k in sorted(children)], schema=ARROW_SCHEMAS["children"]
    )
    return conform_tables(tables)


def export_afcars(tables: Mapping[str, pa.Table]) -> bytes:
    """The foster-care file: one record per placement setting (or per episode without any)."""
    canonical = conform_tables(tables)
    children = _children_by_id(canonical["children"])
    placements: dict[tuple[str, dt.date], list[dict[str, Any]]] = defaultdict(list)
    for row in canonical["placements"].to_pylist():
        placements[(row["child_id"], row["removal_date"])].append(row)
    out_rows = []
    episodes = sorted(
        canonical["episodes"].to_pylist(), key=lambda r: (r["child_id"], r["removal_date"])
    )
    for episode in episodes:
        child = children[episode["child_id"]]
        sex = child["sex"] if child["sex"] in (1, 2) else None
        head = [
            episode["county"],
            episode["child_id"],
            child["date_of_birth"],
            sex,
            *(child[c] for c in RACE_COLUMNS),
            child["hispanic"],
            episode["removal_date"],
        ]
        tail = [
            episode["discharge_date"],
            episode["discharge_reason"] if episode["discharge_date"] else 0,
        ]
        settings = sorted(
            placements.get((episode["child_id"], episode["removal_date"]), []),
            key=lambda r: r["start_date"],
        )
        if not settings:
            out_rows.append(
                [*head, None, None, *tail, episode["office"], episode["circuit"], None, None]
            )
        for setting in settings:
            out_rows.append(
                [
                    *head,
                    setting["start_date"],
                    setting["setting"],
                    *tail,
                    episode["office"],
                    episode["circuit"],
                    setting["temporary"],
                    setting["provider_id"],
                ]
            )
    return _write(AFCARS_HEADER, out_rows)


def import_afcars(data: bytes) -> dict[str, pa.Table]:
    """Children, episodes and placements from a foster-care file export."""
    records = _read(data, AFCARS_HEADER, "afcars")
    children: dict[str, dict[str, Any]] = {}
    episodes: dict[tuple[str, dt.date | None], dict[str, Any]] = {}
    placements: list[dict[str, Any]] = []
    for line, record in enumerate(records, start=2):
        try:
            child_id = record["RECNUMBR"]
            removal = _date(record["LATREMDT"])
            children.setdefault(
                child_id,
                {
                    "child_id": child_id,
                    "date_of_birth": _date(record["DOB"]),
                    "sex": _int(record["SEX"]),
                    **{
                        column: _int(record[name])
                        for column, name in zip(
                            RACE_COLUMNS,
                            ("AMIAKN", "ASIAN", "BLKAFRAM", "HAWAIIPI", "WHITE", "UNTODETM"),
                            strict=True,
                        )
                    },
                    "hispanic": _int(record["HISORGIN"]),
                },
            )
            reason = _int(record["DISREASN"])
            episodes.setdefault(
                (child_id, removal),
                {
                    "child_id": child_id,
                    "removal_date": removal,
                    "discharge_date": _date(record["DODFCDT"]),
                    "discharge_reason": reason or None,
                    "county": record["FIPSCODE"] or None,
                    "office": record["KF_OFFICE"] or None,
                    "circuit": record["KF_CIRCUIT"] or None,
                },
            )
            start = _date(record["CURSETDT"])
            if start is not None:
                placements.append(
                    {
                        "child_id": child_id,
                        "removal_date": removal,
                        "start_date": start,
                        "end_date": None,
                        "setting": _int(record["CURPLSET"]),
                        "temporary": _int(record["KF_TEMPORARY"]) or 0,
                        "provider_id": record["KF_PROVIDER"] or None,
                    }
                )
        except ValueError as exc:
            raise TableError(str(exc), file="afcars", line=line) from exc
    _fill_placement_ends(placements, episodes)
    tables = _empty()
    tables["children"] = pa.Table.from_pylist(
        [children[k] for k in sorted(children)], schema=ARROW_SCHEMAS["children"]
    )
    tables["episodes"] = pa.Table.from_pylist(
        list(episodes.values()), schema=ARROW_SCHEMAS["episodes"]
    )
    tables["placements"] = pa.Table.from_pylist(placements, schema=ARROW_SCHEMAS["placements"])
    return conform_tables(tables)


def _fill_placement_ends(
    placements: list[dict[str, Any]], episodes: Mapping[tuple[str, Any], dict[str, Any]]
) -> None:
    """A setting ends the day before the next begins; the last ends at discharge."""
    by_episode: dict[tuple[str, Any], list[dict[str, Any]]] = defaultdict(list)
    for row in placements:
        by_episode[(row["child_id"], row["removal_date"])].append(row)
    for key, rows in by_episode.items():
        rows.sort(key=lambda r: r["start_date"])
        for current, following in zip(rows, rows[1:], strict=False):
            current["end_date"] = following["start_date"] - dt.timedelta(days=1)
        rows[-1]["end_date"] = episodes[key]["discharge_date"]


LEGACY_HEADER = (
    "RPTPDEND",  # element 2: report period ending date (then the elements of AFCARS_ELEMENTS)
    "FIPSCODE",
    "RECNUMBR",
    "DOB",
    "SEX",
    "AMIAKN",
    "ASIAN",
    "BLKAFRAM",
    "HAWAIIPI",
    "WHITE",
    "UNTODETM",
    "HISORGIN",
    "LATREMDT",
    "CURSETDT",
    "CURPLSET",
    "DODFCDT",
    "DISREASN",
)


def import_afcars_legacy(data: bytes) -> dict[str, pa.Table]:
    """Episodes and the settings that can be seen from legacy semi-annual AFCARS records.

    Each record is one child on one report date, with the latest removal and the current
    setting only. Records of several periods (concatenated) rebuild more of the history; what
    cannot be rebuilt is listed in ``LOSSES["afcars-legacy"]``.
    """
    records = _read(data, LEGACY_HEADER, "afcars-legacy")
    records.sort(key=lambda r: (r["RECNUMBR"], r["LATREMDT"], r["RPTPDEND"]))
    children: dict[str, dict[str, Any]] = {}
    episodes: dict[tuple[str, Any], dict[str, Any]] = {}
    seen_settings: dict[tuple[str, Any, Any], dict[str, Any]] = {}
    for line, record in enumerate(records, start=2):
        try:
            child_id = record["RECNUMBR"]
            removal = _date(record["LATREMDT"])
            children[child_id] = {
                "child_id": child_id,
                "date_of_birth": _date(record["DOB"]),
                "sex": _int(record["SEX"]),
                **{
                    column: _int(record[name])
                    for column, name in zip(
                        RACE_COLUMNS,
                        ("AMIAKN", "ASIAN", "BLKAFRAM", "HAWAIIPI", "WHITE", "UNTODETM"),
                        strict=True,
                    )
                },
                "hispanic": _int(record["HISORGIN"]),
            }
            discharge = _date(record["DODFCDT"])
            reason = _int(record["DISREASN"]) or None
            episode = episodes.setdefault(
                (child_id, removal),
                {
                    "child_id": child_id,
                    "removal_date": removal,
                    "discharge_date": None,
                    "discharge_reason": None,
                    "county": record["FIPSCODE"] or None,
                },
            )
            # Later report periods know more: a discharge seen once stays.
            if discharge is not None:
                episode["discharge_date"], episode["discharge_reason"] = discharge, reason
            start = _date(record["CURSETDT"])
            if start is not None:
                seen_settings[(child_id, removal, start)] = {
                    "child_id": child_id,
                    "removal_date": removal,
                    "start_date": start,
                    "end_date": None,
                    "setting": _int(record["CURPLSET"]),
                    "temporary": 0,
                    "provider_id": None,
                }
        except ValueError as exc:
            raise TableError(str(exc), file="afcars-legacy", line=line) from exc
    placements = list(seen_settings.values())
    _fill_placement_ends(placements, episodes)
    tables = _empty()
    tables["children"] = pa.Table.from_pylist(
        [children[k] for k in sorted(children)], schema=ARROW_SCHEMAS["children"]
    )
    tables["episodes"] = pa.Table.from_pylist(
        list(episodes.values()), schema=ARROW_SCHEMAS["episodes"]
    )
    tables["placements"] = pa.Table.from_pylist(placements, schema=ARROW_SCHEMAS["placements"])
    return conform_tables(tables)


def _empty() -> dict[str, pa.Table]:
    return {name: ARROW_SCHEMAS[name].empty_table() for name in TABLE_NAMES}


EXPORTERS = {"ncands": export_ncands, "afcars": export_afcars}
IMPORTERS = {
    "ncands": import_ncands,
    "afcars": import_afcars,
    "afcars-legacy": import_afcars_legacy,
}
