"""Person records as the matcher sees them, and the CSV format of ``kinfolk match``."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CSV_FIELDS = (
    "record_id",
    "first_name",
    "middle_name",
    "last_name",
    "date_of_birth",
    "sex",
    "ssn",
    "street",
    "city",
    "state",
    "postcode",
    "phone",
)


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """What is known about one person; every field but ``record_id`` may be empty.

    ``ssn`` holds nine digits, or only the last four when that is all a caller knows
    (a search at intake often has a partial number).
    """

    record_id: str
    first_name: str = ""
    middle_name: str = ""
    last_name: str = ""
    date_of_birth: dt.date | None = None
    sex: str = ""
    ssn: str = ""
    street: str = ""
    city: str = ""
    state: str = ""
    postcode: str = ""
    phone: str = ""


class RecordError(ValueError):
    """Bad input, with the 1-based line of the file it was found on."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


def parse_date(text: str) -> dt.date | None:
    """Parse ``YYYY-MM-DD`` (or empty); raise ValueError for anything else."""
    text = text.strip()
    if not text:
        return None
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        # The value itself is not echoed: error output can end up in logs, birth dates must not.
        raise ValueError("not a date in the form YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        if text in str(exc):
            raise ValueError("not a valid date in the form YYYY-MM-DD") from None
        raise


def read_persons(path: str | Path) -> list[PersonRecord]:
    """Read a persons CSV, checking it whole before returning anything.

    Raises RecordError naming the line for a missing header column, a duplicate or
    empty record_id, an unparseable date, a bad sex code or SSN.
    """
    records: list[PersonRecord] = []
    seen: dict[str, int] = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise RecordError(1, "the file is empty; expected a header") from None
        columns = [name.strip().lower() for name in header]
        missing = [name for name in CSV_FIELDS if name not in columns]
        if missing:
            raise RecordError(1, f"header lacks column(s): {', '.join(missing)}")
        position = {name: columns.index(name) for name in CSV_FIELDS}
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < len(columns):
                row = row + [""] * (len(columns) - len(row))
            values = {name: row[index].strip() for name, index in position.items()}
            records.append(_record_from_row(values, line, seen))
    return records


def _record_from_row(values: dict[str, str], line: int, seen: dict[str, int]) -> PersonRecord:
    record_id = values["record_id"]
    if not record_id:
        raise RecordError(line, "record_id is empty")
    if record_id in seen:
        raise RecordError(line, f"duplicate record_id (first seen on line {seen[record_id]})")
    seen[record_id] = line
    try:
        dob = parse_date(values["date_of_birth"])
    except ValueError as exc:
        raise RecordError(line, f"date_of_birth: {exc}") from None
    sex = values["sex"].upper()
    if sex not in ("", "M", "F", "U"):
        raise RecordError(line, "sex must be M, F, U or empty")
    ssn = values["ssn"].replace("-", "").replace(" ", "")
    if ssn and (not ssn.isdigit() or len(ssn) not in (4, 9)):
        raise RecordError(line, "ssn must be 9 digits (or the last 4) or empty")
    return PersonRecord(
        record_id=record_id,
        first_name=values["first_name"],
        middle_name=values["middle_name"],
        last_name=values["last_name"],
        date_of_birth=dob,
        sex=sex,
        ssn=ssn,
        street=values["street"],
        city=values["city"],
        state=values["state"],
        postcode=values["postcode"],
        phone=values["phone"],
    )


def iter_rows(records: list[PersonRecord]) -> Iterator[list[str]]:
    """Rows in CSV_FIELDS order, for writing a persons file."""
    for r in records:
        dob = r.date_of_birth.isoformat() if r.date_of_birth else ""
        yield [
            r.record_id,
            r.first_name,
            r.middle_name,
            r.last_name,
            dob,
            r.sex,
            r.ssn,
            r.street,
            r.city,
            r.state,
            r.postcode,
            r.phone,
        ]
