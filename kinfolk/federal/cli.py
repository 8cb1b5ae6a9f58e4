"""``kinfolk federal export|import``: AFCARS and NCANDS files to and from table directories."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

EXPORT_KINDS = ("ncands", "afcars")
IMPORT_KINDS = ("ncands", "afcars", "afcars-legacy")
# --layout of an AFCARS import: Kinfolk's CSV, the legacy semi-annual records as CSV with element
# names, or the legacy fixed-width foster-care detail records (see FILES.md).
AFCARS_LAYOUTS = {
    "csv": "afcars",
    "legacy-csv": "afcars-legacy",
    "legacy-fixed": "afcars-legacy-fixed",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    federal = subparsers.add_parser(
        "federal",
        help="AFCARS / NCANDS files",
        description="Write the NCANDS Child File or the AFCARS foster-care file from a table "
        "directory, or read one into a table directory.",
    )
    commands = federal.add_subparsers(dest="federal_command", metavar="COMMAND")
    export = commands.add_parser("export", help="write a federal file from a table directory")
    export.add_argument("kind", choices=EXPORT_KINDS)
    export.add_argument("--input", required=True, metavar="DIR", help="table directory")
    export.add_argument("--output", required=True, metavar="FILE")
    export.set_defaults(func=handle_export)
    load = commands.add_parser("import", help="read a federal file into a table directory")
    load.add_argument("kind", choices=IMPORT_KINDS)
    load.add_argument("--input", required=True, metavar="FILE")
    load.add_argument(
        "--output",
        required=True,
        metavar="DIR",
        help="table directory; tables the file does not carry are kept from it if present",
    )
    load.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    load.add_argument(
        "--layout",
        choices=tuple(AFCARS_LAYOUTS),
        default="csv",
        help="afcars only: Kinfolk's CSV (default), legacy semi-annual records as CSV, or the "
        "legacy fixed-width foster-care detail record",
    )
    load.set_defaults(func=handle_import)
    federal.set_defaults(func=lambda args: _usage(federal))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def handle_export(args: argparse.Namespace) -> int:
    from kinfolk.cli import CommandError
    from kinfolk.federal.files import EXPORTERS
    from kinfolk.federal.tables import TableError, read_tables

    try:
        # The exporter re-reads and checks the file it produced before returning it.
        data = EXPORTERS[args.kind](read_tables(args.input))
    except TableError as exc:
        raise CommandError(str(exc)) from None
    _write_whole(Path(args.output), data)
    return 0


def _write_whole(target: Path, data: bytes) -> None:
    """Write all of ``data`` or nothing: a temporary file beside ``target``, then a rename."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def handle_import(args: argparse.Namespace) -> int:
    import pyarrow as pa

    from kinfolk.cli import CommandError
    from kinfolk.federal.files import IMPORTERS, LOSSES
    from kinfolk.federal.tables import TABLE_NAMES, TableError, read_tables, write_tables

    kind = args.kind
    if args.layout != "csv":
        if kind != "afcars":
            raise CommandError(f"--layout {args.layout} is for afcars files only")
        kind = AFCARS_LAYOUTS[args.layout]
    source = Path(args.input)
    if not source.is_file():
        raise CommandError(f"--input {args.input!r} is not a file")
    target = Path(args.output)
    try:
        imported = IMPORTERS[kind](source.read_bytes())
        existing = read_tables(target) if _has_tables(target, TABLE_NAMES) else None
    except TableError as exc:
        raise CommandError(str(exc)) from None
    tables = dict(imported)
    if existing is not None:
        for name in TABLE_NAMES:
            if imported[name].num_rows == 0:
                tables[name] = existing[name]
        # Children: the file's rows, plus existing children it does not mention.
        known = set(imported["children"].column("child_id").to_pylist())
        kept = [r for r in existing["children"].to_pylist() if r["child_id"] not in known]
        tables["children"] = pa.concat_tables(
            [imported["children"], pa.Table.from_pylist(kept, schema=imported["children"].schema)]
        )
    try:
        write_tables(tables, target, fmt=args.format)
    except TableError as exc:
        raise CommandError(str(exc)) from None
    for note in LOSSES[kind]:
        print(f"note: {note}", file=sys.stderr)
    return 0


def _has_tables(directory: Path, names: tuple[str, ...]) -> bool:
    return all(
        (directory / f"{n}.csv").exists() or (directory / f"{n}.parquet").exists() for n in names
    )
