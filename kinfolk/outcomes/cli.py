"""``kinfolk outcomes compute``: the CFSR indicators of a table directory.

Registration stays cheap; Ibis, DuckDB and PyArrow are imported by the handler only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

BREAKDOWNS = ("county", "office", "circuit", "age_group", "race", "sex")
FORMATS = ("json", "csv", "html")
BACKENDS = ("duckdb", "pyspark")


def register(subparsers: argparse._SubParsersAction) -> None:
    outcomes = subparsers.add_parser(
        "outcomes",
        help="CFSR Round 4 statewide data indicators",
        description="CFSR Round 4 statewide data indicators from federal-shaped tables.",
    )
    commands = outcomes.add_subparsers(dest="outcomes_command", metavar="COMMAND")
    compute = commands.add_parser(
        "compute",
        help="compute the seven indicators for a 12-month period",
        description="Compute the seven CFSR Round 4 indicators for the 12-month period that "
        "starts on --period-start.",
    )
    compute.add_argument("--input", required=True, metavar="DIR", help="table directory")
    compute.add_argument(
        "--period-start", required=True, metavar="YYYY-MM-DD", help="first day of the period"
    )
    compute.add_argument("--by", choices=BREAKDOWNS, help="also break each indicator down")
    compute.add_argument("--format", choices=FORMATS, default="json", help="default: json")
    compute.add_argument("--output", metavar="FILE", help="write here instead of stdout")
    compute.add_argument(
        "--periods",
        type=int,
        default=1,
        metavar="N",
        help="also compute the N-1 earlier 12-month periods, for a trend (default 1)",
    )
    compute.add_argument("--backend", choices=BACKENDS, default="duckdb", help="default: duckdb")
    compute.add_argument(
        "--data-through",
        metavar="YYYY-MM-DD",
        help="date the data are complete to (extract date); default: the latest event date",
    )
    compute.set_defaults(func=handle_compute)
    outcomes.set_defaults(func=lambda args: _usage(outcomes))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _parse_date(text: str, option: str) -> dt.date:
    from kinfolk.cli import CommandError

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option} {text!r} is not a date (expected YYYY-MM-DD)") from None


def handle_compute(args: argparse.Namespace) -> int:
    from kinfolk.cli import CommandError

    period_start = _parse_date(args.period_start, "--period-start")
    through = _parse_date(args.data_through, "--data-through") if args.data_through else None
    if args.periods < 1:
        raise CommandError("--periods must be at least 1")
    if len(args.period_start) != 10:
        raise CommandError(f"--period-start {args.period_start!r}: use the form YYYY-MM-DD")
    source = Path(args.input)
    if not source.is_dir():
        raise CommandError(f"--input {args.input!r} is not a directory")

    from kinfolk.federal.tables import TableError, open_tables, read_tables
    from kinfolk.outcomes import render
    from kinfolk.outcomes.compute import NoDataError, compute, connect

    con = connect(args.backend)
    try:
        # On DuckDB the files are checked and read in place (the two reference checks ride
        # along in the indicators' query, which raises before any figure comes out); Spark gets
        # the checked Arrow tables.
        tables = (
            open_tables(source, con, defer_checks=True)
            if args.backend == "duckdb"
            else read_tables(source)
        )
        result = compute(
            tables,
            period_start,
            by=args.by,
            periods=args.periods,
            con=con,
            through=through,
        )
    except (TableError, NoDataError) as exc:
        raise CommandError(str(exc)) from None
    text = {"json": render.to_json, "csv": render.to_csv, "html": render.to_html}[args.format](
        result
    )
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
