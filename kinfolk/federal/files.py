"""AFCARS and NCANDS files from the federal-shaped tables, and back.

The files Kinfolk writes are delimited text (CSV, one header row of codebook element names,
``\\n`` line ends, ISO dates), not the codebooks' fixed-width positional layouts: the element
*names* and *codes* are the federal ones, so a state can map them to its submission layout column
by column. Element numbers cited below are from the NCANDS Child File Codebook and from the
AFCARS foster-care data elements of the 1993 rule (45 CFR 1355, Appendix A, numbered 1-66 as in
the detailed foster-care element list the Child Welfare Policy Manual cites, e.g. 1.2B.7 "Element
Numbers 23, 24, and 41" for the date of placement in the current setting, the number of
placements and the current placement setting, and as in NDACAN's foster-care file codebook), the
layout the legacy semi-annual files use. The 2020 rule (45 CFR 1355.44) names its elements by
paragraph, not by number, so it gives no numbers to cite.

Every record read is checked element by element (:data:`ELEMENT_RULES`): a short or long line,
a code the element does not have or a date that does not parse is a :class:`TableError` naming
the file, the line and the element, and nothing is returned.

Exports are deterministic (rows sorted by their keys, fixed formatting) and validated on the way
out: the tables are checked with :func:`conform_tables` (and a report child with more than the
four maltreatments a Child File record holds is refused), then the *file produced* is read back
with the importer, which checks every record against the element rules, and the tables it gives
must equal what the file is documented to carry of the input (:func:`_carried`). A file that
fails is never returned. ``export → import → export`` gives identical bytes.

The legacy AFCARS foster-care detail file (one fixed-width record per child per semi-annual
report period) is read by :func:`import_afcars_legacy_fixed` through :data:`LEGACY_FIXED_LAYOUT`;
FILES.md says where the layout comes from and what in it is still unverified.

What each file cannot carry is listed in ``LOSSES`` below (and FILES.md beside this module), and
``kinfolk federal import`` prints it.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
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
NCANDS_RACE = ("CHRACAI", "CHRACAS", "CHRACBL", "CHRACNH", "CHRACWH", "CHRACUD")
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
AFCARS_RACE = ("AMIAKN", "ASIAN", "BLKAFRAM", "HAWAIIPI", "WHITE", "UNTODETM")

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
    "afcars-legacy-fixed": (
        "Only the latest removal (element 21) and the current setting (elements 23, 41) on each "
        "report date are known: settings that began and ended between two report dates are "
        "lost; the number of placement settings (element 24) is read but not kept, so "
        "placement stability is undercounted.",
        "Earlier removals are known only as a first-removal date (element 18), a count "
        "(element 19) and the last discharge before this removal (element 20, DLSTFCDT): "
        "they are not rebuilt as episodes, so re-entry can be computed only when the earlier "
        "episode is in an earlier report period's file.",
        "Provider ids, temporary stays, office and circuit are not in the file; the local "
        "agency (element 3, FIPS code) is kept as the county.",
        "All other elements (reviews, disabilities, removal reasons, goals, caretakers, "
        "funding) are checked for length but not kept.",
        "Byte positions match a state's published parser, not the federal bulletin's own "
        "table, and dates are read as YYYYMMDD without a source for that order (see "
        "FILES.md); check them against the state's own layout first.",
    ),
}


@dataclass(frozen=True)
class Rule:
    """What one element may hold: text, an integer (optionally one of ``codes``) or a date."""

    kind: str  # "text" | "int" | "date" | "month"
    codes: frozenset[int] | None = None
    required: bool = False


def _codes(*values: int) -> frozenset[int]:
    return frozenset(values)


_TEXT = Rule("text")
_ID = Rule("text", required=True)
_DATE = Rule("date")
_YESNO_NCANDS = Rule("int", _codes(1, 2))
_FLAG = Rule("int", _codes(0, 1))

ELEMENT_RULES: dict[str, Rule] = {
    # NCANDS Child File
    "RPTID": _ID,
    "CHID": _ID,
    "RPTCNTY": _TEXT,
    "RPTDT": Rule("date", required=True),
    "CHAGE": Rule("int", _codes(*range(0, 100))),
    "CHBDATE": _DATE,
    "CHSEX": Rule("int", _codes(1, 2, 9)),
    **{name: _YESNO_NCANDS for name in NCANDS_RACE},
    "CHETHN": Rule("int", _codes(1, 2, 9)),
    **{f"CHMAL{i}": Rule("int", _codes(*range(1, 10))) for i in range(1, 5)},
    **{f"MAL{i}LEV": Rule("int", _codes(*range(1, 10), 99)) for i in range(1, 5)},
    "KF_INCIDDT": _DATE,
    # AFCARS foster-care file
    "RPTPDEND": Rule("date", required=True),
    "FIPSCODE": _TEXT,
    "RECNUMBR": _ID,
    "DOB": _DATE,
    "SEX": Rule("int", _codes(1, 2)),
    **{name: _FLAG for name in AFCARS_RACE},
    "HISORGIN": Rule("int", _codes(1, 2, 3)),
    "LATREMDT": Rule("date", required=True),
    "CURSETDT": _DATE,
    "CURPLSET": Rule("int", _codes(*range(1, 9))),
    "DODFCDT": _DATE,
    "DISREASN": Rule("int", _codes(*range(0, 9))),
    "KF_OFFICE": _TEXT,
    "KF_CIRCUIT": _TEXT,
    "KF_TEMPORARY": _FLAG,
    "KF_PROVIDER": _TEXT,
    "REM1DT": _DATE,
    "TOTALREM": Rule("int"),
    "DLSTFCDT": _DATE,
    "NUMPLEP": Rule("int"),
}


class _Record:
    """One record of a file, read element by element; every error names file, line, element."""

    def __init__(
        self,
        fields: Mapping[str, str],
        *,
        file: str,
        line: int,
        date: Callable[[str], dt.date] = dt.date.fromisoformat,
        date_form: str = "YYYY-MM-DD",
    ) -> None:
        self.fields = fields
        self.file = file
        self.line = line
        self._date = date
        self._date_form = date_form

    def error(self, name: str, message: str) -> TableError:
        return TableError(message, file=self.file, line=self.line, column=name)

    def _raw(self, name: str) -> str | None:
        value = self.fields[name]
        if not value.strip():
            if ELEMENT_RULES[name].required:
                raise self.error(name, "required element is blank")
            return None
        return value

    def text(self, name: str) -> str | None:
        return self._raw(name)

    def int(self, name: str) -> int | None:
        value = self._raw(name)
        if value is None:
            return None
        if not value.strip().isdigit():
            raise self.error(name, f"{value!r} is not a number")
        number = int(value)
        codes = ELEMENT_RULES[name].codes
        if codes is not None and number not in codes:
            raise self.error(name, f"{number} is not a valid code")
        return number

    def date(self, name: str) -> dt.date | None:
        value = self._raw(name)
        if value is None:
            return None
        try:
            return self._date(value.strip())
        except ValueError:
            raise self.error(
                name, f"{value!r} is not a date (expected {self._date_form})"
            ) from None


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


def _decode(data: bytes, file: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TableError(f"not UTF-8 text ({exc.reason})", file=file) from exc


def _read(data: bytes, header: tuple[str, ...], file: str) -> list[_Record]:
    """The CSV's records, each checked to have exactly the header's number of fields."""
    reader = csv.reader(io.StringIO(_decode(data, file)))
    names = next(reader, [])
    missing = [name for name in header if name not in names]
    if missing:
        raise TableError("required element is missing", file=file, line=1, column=missing[0])
    records = []
    for row in reader:
        line = reader.line_num
        if not row:
            continue
        if len(row) != len(names):
            raise TableError(
                f"record has {len(row)} fields; the header has {len(names)}",
                file=file,
                line=line,
            )
        records.append(_Record(dict(zip(names, row, strict=True)), file=file, line=line))
    return records


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


def _maltreatments_by_record(reports: pa.Table) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Report rows grouped as Child File records (report × child), maltreatments in order."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in reports.to_pylist():
        grouped[(row["report_id"], row["child_id"])].append(row)
    return {
        key: sorted(rows, key=lambda r: (r["maltreatment_type"], r["maltreatment_level"]))
        for key, rows in sorted(grouped.items())
    }


def _ncands_bytes(canonical: Mapping[str, pa.Table]) -> bytes:
    children = _children_by_id(canonical["children"])
    out_rows = []
    for key, rows in _maltreatments_by_record(canonical["reports"]).items():
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


def export_ncands(tables: Mapping[str, pa.Table]) -> bytes:
    """The NCANDS Child File: one record per report and child, up to four maltreatments."""
    canonical = conform_tables(tables)
    data = _ncands_bytes(canonical)
    _verify("ncands", data, canonical)
    return data


def import_ncands(data: bytes) -> dict[str, pa.Table]:
    """Reports (and the children they describe) from an NCANDS Child File export."""
    reports: list[dict[str, Any]] = []
    children: dict[str, dict[str, Any]] = {}
    for record in _read(data, NCANDS_HEADER, "ncands"):
        report_id, child_id = record.text("RPTID"), record.text("CHID")
        report_date, incident = record.date("RPTDT"), record.date("KF_INCIDDT")
        county = record.text("RPTCNTY")
        for index in range(1, MAX_MALTREATMENTS + 1):
            kind = record.int(f"CHMAL{index}")
            level = record.int(f"MAL{index}LEV")
            if kind is None:
                if level is not None:
                    raise record.error(f"CHMAL{index}", "blank, but its level is given")
                continue
            if level is None:
                raise record.error(f"MAL{index}LEV", "blank, but its maltreatment is given")
            reports.append(
                {
                    "report_id": report_id,
                    "child_id": child_id,
                    "report_date": report_date,
                    "incident_date": incident,
                    "maltreatment_type": kind,
                    "maltreatment_level": level,
                    "county": county,
                }
            )
        record.int("CHAGE")
        ethnicity = record.int("CHETHN")
        flags = [record.int(name) for name in NCANDS_RACE]
        child = {
            "child_id": child_id,
            "date_of_birth": record.date("CHBDATE"),
            "sex": record.int("CHSEX"),
            **{
                column: (None if flag is None else int(flag == 1))
                for column, flag in zip(RACE_COLUMNS, flags, strict=True)
            },
            "hispanic": {1: 1, 2: 2, 9: 3}.get(ethnicity) if ethnicity else None,
        }
        children.setdefault(str(child_id), child)
    tables = _empty()
    tables["reports"] = pa.Table.from_pylist(reports, schema=ARROW_SCHEMAS["reports"])
    tables["children"] = pa.Table.from_pylist(
        [children[k] for k in sorted(children)], schema=ARROW_SCHEMAS["children"]
    )
    return conform_tables(tables)


def _afcars_bytes(canonical: Mapping[str, pa.Table]) -> bytes:
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


def export_afcars(tables: Mapping[str, pa.Table]) -> bytes:
    """The foster-care file: one record per placement setting (or per episode without any)."""
    canonical = conform_tables(tables)
    data = _afcars_bytes(canonical)
    _verify("afcars", data, canonical)
    return data


def _child(record: _Record) -> dict[str, Any]:
    """The child elements (4, 6, 7, 8a-8f, 9) of a foster-care record."""
    return {
        "child_id": record.text("RECNUMBR"),
        "date_of_birth": record.date("DOB"),
        "sex": record.int("SEX"),
        **{
            column: record.int(name) for column, name in zip(RACE_COLUMNS, AFCARS_RACE, strict=True)
        },
        "hispanic": record.int("HISORGIN"),
    }


def import_afcars(data: bytes) -> dict[str, pa.Table]:
    """Children, episodes and placements from a foster-care file export."""
    children: dict[str, dict[str, Any]] = {}
    episodes: dict[tuple[str, dt.date | None], dict[str, Any]] = {}
    placements: list[dict[str, Any]] = []
    for record in _read(data, AFCARS_HEADER, "afcars"):
        child = _child(record)
        child_id = child["child_id"]
        removal = record.date("LATREMDT")
        children.setdefault(child_id, child)
        episode = {
            "child_id": child_id,
            "removal_date": removal,
            "discharge_date": record.date("DODFCDT"),
            "discharge_reason": record.int("DISREASN") or None,
            "county": record.text("FIPSCODE"),
            "office": record.text("KF_OFFICE"),
            "circuit": record.text("KF_CIRCUIT"),
        }
        episodes.setdefault((child_id, removal), episode)
        start, setting = record.date("CURSETDT"), record.int("CURPLSET")
        temporary, provider = record.int("KF_TEMPORARY"), record.text("KF_PROVIDER")
        if start is None:
            if setting is not None:
                raise record.error("CURSETDT", "blank, but a placement setting is given")
            continue
        if setting is None:
            raise record.error("CURPLSET", "blank, but the setting's start date is given")
        placements.append(
            {
                "child_id": child_id,
                "removal_date": removal,
                "start_date": start,
                "end_date": None,
                "setting": setting,
                "temporary": temporary or 0,
                "provider_id": provider,
            }
        )
    _fill_placement_ends(placements, episodes)
    return _foster_care_tables(children, episodes, placements)


def _foster_care_tables(
    children: Mapping[str, dict[str, Any]],
    episodes: Mapping[tuple[str, Any], dict[str, Any]],
    placements: list[dict[str, Any]],
) -> dict[str, pa.Table]:
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
    """Episodes and the settings that can be seen from legacy semi-annual AFCARS records (CSV).

    Each record is one child on one report date, with the latest removal and the current
    setting only. Records of several periods (concatenated) rebuild more of the history; what
    cannot be rebuilt is listed in ``LOSSES["afcars-legacy"]``.
    """
    return _legacy_tables(_read(data, LEGACY_HEADER, "afcars-legacy"))


def _legacy_tables(records: list[_Record]) -> dict[str, pa.Table]:
    """Children, episodes and seen settings from semi-annual records (one child, one period)."""
    rows = []
    for record in records:
        child = _child(record)
        rows.append(
            (
                child,
                record.date("RPTPDEND"),
                record.date("LATREMDT"),
                record.text("FIPSCODE"),
                record.date("DODFCDT"),
                record.int("DISREASN") or None,
                record.date("CURSETDT"),
                record.int("CURPLSET"),
                record,
            )
        )
    # Oldest report period first, so a later period's child details and discharge win.
    rows.sort(key=lambda r: (r[0]["child_id"], r[2], r[1]))
    children: dict[str, dict[str, Any]] = {}
    episodes: dict[tuple[str, Any], dict[str, Any]] = {}
    seen_settings: dict[tuple[str, Any, Any], dict[str, Any]] = {}
    for child, _, removal, county, discharge, reason, start, setting, record in rows:
        child_id = child["child_id"]
        children[child_id] = child
        episode = episodes.setdefault(
            (child_id, removal),
            {
                "child_id": child_id,
                "removal_date": removal,
                "discharge_date": None,
                "discharge_reason": None,
                "county": county,
            },
        )
        # Later report periods know more: a discharge seen once stays.
        if discharge is not None:
            episode["discharge_date"], episode["discharge_reason"] = discharge, reason
        if start is None:
            continue
        if setting is None:
            raise record.error("CURPLSET", "blank, but the setting's start date is given")
        seen_settings[(child_id, removal, start)] = {
            "child_id": child_id,
            "removal_date": removal,
            "start_date": start,
            "end_date": None,
            "setting": setting,
            "temporary": 0,
            "provider_id": None,
        }
    placements = list(seen_settings.values())
    _fill_placement_ends(placements, episodes)
    return _foster_care_tables(children, episodes, placements)


# --- The legacy fixed-width foster-care detail record ------------------------------------------
#
# One record per child per semi-annual report period, elements 1-66 of the 1993 rule in element
# order, every element numeric, blank-filled when missing. (element, name, length); start
# positions follow by summing. See FILES.md for the source of each fact: the record length (197)
# and the element order are from federal sources; every length below was derived here and then
# matched, field for field, against a state data unit's published parser for its own submission
# files (hahmed1523/afcarsparser, afcarsparser.py, ``fcwidths``). The order of year, month and
# day inside a date is still unverified.
_LAYOUT_LENGTHS: tuple[tuple[str, str, int], ...] = (
    ("1", "STATE", 2),
    ("2", "RPTPDEND", 6),  # YYYYMM
    ("3", "FIPSCODE", 5),
    ("4", "RECNUMBR", 12),
    ("5", "PEDREVDT", 8),  # dates: YYYYMMDD
    ("6", "DOB", 8),
    ("7", "SEX", 1),
    ("8a", "AMIAKN", 1),
    ("8b", "ASIAN", 1),
    ("8c", "BLKAFRAM", 1),
    ("8d", "HAWAIIPI", 1),
    ("8e", "WHITE", 1),
    ("8f", "UNTODETM", 1),
    ("9", "HISORGIN", 1),
    ("10", "CLINDIS", 1),
    ("11", "MR", 1),
    ("12", "VISHEAR", 1),
    ("13", "PHYDIS", 1),
    ("14", "EMOTDIST", 1),
    ("15", "OTHERMED", 1),
    ("16", "EVERADPT", 1),
    ("17", "AGEADOPT", 1),
    ("18", "REM1DT", 8),
    ("19", "TOTALREM", 2),
    ("20", "DLSTFCDT", 8),
    ("21", "LATREMDT", 8),
    ("22", "REMTRNDT", 8),
    ("23", "CURSETDT", 8),
    ("24", "NUMPLEP", 2),
    ("25", "MANREM", 1),
    ("26", "PHYABUSE", 1),
    ("27", "SEXABUSE", 1),
    ("28", "NEGLECT", 1),
    ("29", "AAPARENT", 1),
    ("30", "DAPARENT", 1),
    ("31", "AACHILD", 1),
    ("32", "DACHILD", 1),
    ("33", "CHILDIS", 1),
    ("34", "CHBEHPRB", 1),
    ("35", "PRTSDIED", 1),
    ("36", "PRTSJAIL", 1),
    ("37", "NOCOPE", 1),
    ("38", "ABANDMNT", 1),
    ("39", "RELINQSH", 1),
    ("40", "HOUSING", 1),
    ("41", "CURPLSET", 1),
    ("42", "PLACEOUT", 1),
    ("43", "CASEGOAL", 1),
    ("44", "CTKFAMST", 1),
    ("45", "CTK1YR", 4),
    ("46", "CTK2YR", 4),
    ("47", "TPRMOMDT", 8),
    ("48", "TPRDADDT", 8),
    ("49", "FOSFAMST", 1),
    ("50", "FCCTK1YR", 4),
    ("51", "FCCTK2YR", 4),
    ("52a", "RF1AMAKN", 1),
    ("52b", "RF1ASIAN", 1),
    ("52c", "RF1BLKAA", 1),
    ("52d", "RF1NHOPI", 1),
    ("52e", "RF1WHITE", 1),
    ("52f", "RF1UTOD", 1),
    ("53", "HOFCCTK1", 1),
    ("54a", "RF2AMAKN", 1),
    ("54b", "RF2ASIAN", 1),
    ("54c", "RF2BLKAA", 1),
    ("54d", "RF2NHOPI", 1),
    ("54e", "RF2WHITE", 1),
    ("54f", "RF2UTOD", 1),
    ("55", "HOFCCTK2", 1),
    ("56", "DODFCDT", 8),
    ("57", "DODTRNDT", 8),
    ("58", "DISREASN", 1),
    ("59", "IVEFC", 1),
    ("60", "IVEAA", 1),
    ("61", "IVAAFDC", 1),
    ("62", "IVDCHSUP", 1),
    ("63", "XIXMEDCD", 1),
    ("64", "SSIOTHER", 1),
    ("65", "NOA", 1),
    ("66", "FCMNTPAY", 5),
)


@dataclass(frozen=True)
class Field:
    element: str
    name: str
    start: int  # 1-based, as record layouts count
    length: int
    verified: bool = False  # position checked against a published record layout


def _layout(
    lengths: tuple[tuple[str, str, int], ...], verified: frozenset[str]
) -> tuple[Field, ...]:
    fields, start = [], 1
    for element, name, length in lengths:
        fields.append(Field(element, name, start, length, verified=element in verified))
        start += length
    return tuple(fields)


# The elements whose start and length the published parser above confirms: all 81 of them.
_VERIFIED_ELEMENTS = frozenset(element for element, _, _ in _LAYOUT_LENGTHS)
LEGACY_FIXED_LAYOUT = _layout(_LAYOUT_LENGTHS, _VERIFIED_ELEMENTS)
# Technical Bulletin #2 ("AFCARS File Format", revised for century dates and for the 1999 race
# categories): "Foster Care Detailed File | 197 characters per record | One Record per Child".
LEGACY_FIXED_RECORD_LENGTH = 197
# The same bulletin's file order: the foster-care delimiter "@", the foster-care summary record,
# then the detail records; "#" begins the adoption part.
_FOSTER_CARE_DELIMITER, _ADOPTION_DELIMITER = "@", "#"
_SUMMARY_RECORD_LENGTH = 174


def _yyyymmdd(value: str) -> dt.date:
    if len(value) != 8 or not value.isdigit():
        raise ValueError(value)
    return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))


def _yyyymm(value: str) -> dt.date:
    """A report date (month and year) as the last day of that month."""
    if len(value) != 6 or not value.isdigit():
        raise ValueError(value)
    year, month = int(value[:4]), int(value[4:])
    # calendar.IllegalMonthError is a ValueError.
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def import_afcars_legacy_fixed(
    data: bytes, layout: tuple[Field, ...] = LEGACY_FIXED_LAYOUT
) -> dict[str, pa.Table]:
    """Children, episodes and seen settings from legacy fixed-width foster-care detail records.

    One record per child per report period (several periods' files may be concatenated). A
    leading "@" delimiter and the summary record after it are skipped, and reading stops at the
    "#" that begins an adoption part. Every line must be exactly the layout's length; what is
    lost is listed in ``LOSSES["afcars-legacy-fixed"]``.
    """
    file = "afcars-legacy-fixed"
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as exc:
        raise TableError(f"not ASCII text ({exc.reason})", file=file) from exc
    width = layout[-1].start + layout[-1].length - 1
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    records: list[_Record] = []
    summary_next = False
    for number, raw in enumerate(lines, start=1):
        line = raw.removesuffix("\r")
        if line == _FOSTER_CARE_DELIMITER:
            summary_next = True
            continue
        if summary_next:
            summary_next = False
            if len(line) == _SUMMARY_RECORD_LENGTH:
                continue
        if line == _ADOPTION_DELIMITER:
            break
        if len(line) != width:
            what = "truncated" if len(line) < width else "too long"
            raise TableError(
                f"record is {what}: {len(line)} characters, the layout has {width}",
                file=file,
                line=number,
            )
        fields = {f.name: line[f.start - 1 : f.start - 1 + f.length].strip() for f in layout}
        record = _Record(fields, file=file, line=number, date=_yyyymmdd, date_form="YYYYMMDD")
        for f in layout:
            if fields[f.name] and not fields[f.name].isdigit():
                raise record.error(f.name, f"{fields[f.name]!r} is not numeric (every element is)")
        period = fields["RPTPDEND"]
        if period:
            try:
                # Element 2 is a month; it is read on as the last day of that month.
                fields["RPTPDEND"] = _yyyymm(period).strftime("%Y%m%d")
            except ValueError:
                raise record.error(
                    "RPTPDEND", f"{period!r} is not a month (expected YYYYMM)"
                ) from None
        # Read (so checked) though not kept: see LOSSES["afcars-legacy-fixed"].
        record.date("REM1DT")
        record.date("DLSTFCDT")
        record.int("TOTALREM")
        record.int("NUMPLEP")
        records.append(record)
    return _legacy_tables(records)


# --- Validated on the way out -----------------------------------------------------------------


def _rows(table: pa.Table, drop: tuple[str, ...] = ()) -> list[tuple[Any, ...]]:
    names = [n for n in table.column_names if n not in drop]
    return sorted(
        (tuple(row[n] for n in names) for row in table.to_pylist()),
        key=lambda r: tuple((v is None, "" if v is None else v) for v in r),
    )


def _blank_child(child_id: str) -> dict[str, Any]:
    return {name: None for name in ARROW_SCHEMAS["children"].names} | {"child_id": child_id}


def _carried(kind: str, tables: Mapping[str, pa.Table]) -> dict[str, list[tuple[Any, ...]]]:
    """What the file of ``kind`` is documented to carry of canonical ``tables`` (see LOSSES)."""
    children = _children_by_id(tables["children"])
    if kind == "ncands":
        reports = []
        for rows in _maltreatments_by_record(tables["reports"]).values():
            first = rows[0]
            for row in rows:
                # One record per report × child: its date, incident date and county are the
                # first maltreatment's.
                reports.append(
                    {
                        **row,
                        "report_date": first["report_date"],
                        "incident_date": first["incident_date"],
                        "county": first["county"],
                    }
                )
        ids = sorted({row["child_id"] for row in reports})
        kids = [children.get(i) or _blank_child(i) for i in ids]
        return {
            "reports": _rows(
                pa.Table.from_pylist(reports, schema=ARROW_SCHEMAS["reports"]),
                drop=("office", "circuit"),
            ),
            "children": _rows(pa.Table.from_pylist(kids, schema=ARROW_SCHEMAS["children"])),
        }
    episodes = [
        {**row, "discharge_reason": row["discharge_reason"] if row["discharge_date"] else None}
        for row in tables["episodes"].to_pylist()
    ]
    ids = sorted({row["child_id"] for row in episodes})
    kids = [
        {**children[i], "sex": children[i]["sex"] if children[i]["sex"] in (1, 2) else None}
        for i in ids
    ]
    return {
        "children": _rows(pa.Table.from_pylist(kids, schema=ARROW_SCHEMAS["children"])),
        "episodes": _rows(pa.Table.from_pylist(episodes, schema=ARROW_SCHEMAS["episodes"])),
        "placements": _rows(tables["placements"], drop=("end_date",)),
    }


def _verify(kind: str, data: bytes, canonical: Mapping[str, pa.Table]) -> None:
    """Read the produced file back and check it holds exactly what it should of the tables."""
    try:
        again = IMPORTERS[kind](data)
    except TableError as exc:
        raise TableError(
            f"the {kind} file produced fails its own check ({exc}); nothing was written",
            file=kind,
        ) from exc
    expected, got = _carried(kind, canonical), _carried(kind, again)
    for name in expected:
        if expected[name] != got[name]:
            missing = [r for r in expected[name] if r not in got[name]]
            extra = [r for r in got[name] if r not in expected[name]]
            detail = f"{len(missing)} row(s) lost, {len(extra)} row(s) changed or added"
            raise TableError(
                f"the {kind} file produced does not read back to the same {name} "
                f"({detail}); nothing was written",
                file=kind,
            )


def _empty() -> dict[str, pa.Table]:
    return {name: ARROW_SCHEMAS[name].empty_table() for name in TABLE_NAMES}


EXPORTERS = {"ncands": export_ncands, "afcars": export_afcars}
IMPORTERS: dict[str, Callable[[bytes], dict[str, pa.Table]]] = {
    "ncands": import_ncands,
    "afcars": import_afcars,
    "afcars-legacy": import_afcars_legacy,
    "afcars-legacy-fixed": import_afcars_legacy_fixed,
}
