"""``kinfolk federal export|import``: AFCARS and NCANDS files to and from table directories."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXPORT_KINDS = ("ncands", "afcars")
IMPORT_KINDS = ("ncands", "afcars", "afcars-legacy")


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
        data = EXPORTERS[args.kind](read_tables(args.input))
    except TableError as exc:
        raise CommandError(str(exc)) from None
    Path(args.output).write_bytes(data)
    return 0


def handle_import(args: argparse.Namespace) -> int:
    import pyarrow as pa

    from kinfolk.cli import CommandError
    from kinfolk.federal.files import IMPORTERS, LOSSES
    from kinfolk.federal.tables import TABLE_NAMES, TableError, read_tables, write_tables

    source = Path(args.input)
    if not source.is_file():
        raise CommandError(f"--input {args.input!r} is not a file")
    target = Path(args.output)
    try:
        imported = IMPORTERS[args.kind](source.read_bytes())
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
    for note in LOSSES[args.kind]:
        print(f"note: {note}", file=sys.stderr)
    return 0


def _has_tables(directory: Path, names: tuple[str, ...]) -> bool:
    return all(
        (directory / f"{n}.csv").exists() or (directory / f"{n}.parquet").exists() for n in names
    )
