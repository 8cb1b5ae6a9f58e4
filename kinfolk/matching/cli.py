"""``kinfolk match``: bulk de-duplication and linkage of persons CSV files.

Registration stays cheap; the matcher (NumPy, RapidFuzz) is imported by the handlers.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kinfolk.matching.records import PersonRecord


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    match = subparsers.add_parser(
        "match", help="de-duplicate or link persons files (probabilistic matching)"
    )
    commands = match.add_subparsers(dest="match_command", metavar="ACTION", required=True)

    dedupe = commands.add_parser(
        "dedupe", help="cluster the records of one file that are one person"
    )
    dedupe.add_argument("--input", required=True, type=Path, help="persons CSV")
    dedupe.add_argument("--output", required=True, type=Path, help="clusters CSV to write")
    dedupe.add_argument(
        "--pairs", type=Path, help="also write the matching pairs with probabilities"
    )
    dedupe.add_argument(
        "--review",
        type=Path,
        help="also write pairs a guard kept apart (possible twins) for a person to check",
    )
    dedupe.add_argument("--threshold", type=_probability, default=0.5, help="match probability")
    _guard_option(dedupe)
    dedupe.set_defaults(func=handle_dedupe)

    link = commands.add_parser("link", help="find the records of two files that are one person")
    link.add_argument("--left", required=True, type=Path, help="persons CSV")
    link.add_argument("--right", required=True, type=Path, help="persons CSV")
    link.add_argument("--output", required=True, type=Path, help="links CSV to write")
    link.add_argument("--threshold", type=_probability, default=0.5, help="match probability")
    link.add_argument(
        "--many",
        action="store_true",
        help="allow several links per record (when a file has duplicates of its own)",
    )
    _guard_option(link)
    link.set_defaults(func=handle_link)


def _guard_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--without-guard",
        action="append",
        default=[],
        choices=("twins", "household", "generation"),
        help="drop a guard that keeps relatives apart (only for data known to have none)",
    )


def _guards(args: argparse.Namespace) -> frozenset[str]:
    from kinfolk.matching.model import GUARDS

    return GUARDS - frozenset(args.without_guard)


def _probability(text: str) -> float:
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _read(path: Path) -> list[PersonRecord]:
    from kinfolk.cli import CommandError
    from kinfolk.matching.records import RecordError, read_persons

    try:
        return read_persons(path)
    except RecordError as exc:
        # "line N: ..." first, as every import error reads; the file after, as link has two.
        raise CommandError(f"{exc} (in {path})") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CommandError(f"{path}: {exc}") from None


def handle_dedupe(args: argparse.Namespace) -> int:
    from kinfolk.matching.pipeline import dedupe

    records = _read(args.input)
    result = dedupe(records, threshold=args.threshold, guards=_guards(args))
    with open(args.output, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["record_id", "cluster_id"])
        for r in records:
            writer.writerow([r.record_id, result.cluster_of[r.record_id]])
    if args.pairs:
        with open(args.pairs, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["left_record_id", "right_record_id", "match_probability"])
            for p in result.pairs:
                writer.writerow([p.left_id, p.right_id, f"{p.probability:.6f}"])
    if args.review:
        with open(args.review, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["left_record_id", "right_record_id", "match_probability_unguarded"])
            for p in result.review:
                writer.writerow([p.left_id, p.right_id, f"{p.probability:.6f}"])
    clusters = len(set(result.cluster_of.values()))
    # Counts only: names and birth dates never go to a log.
    print(
        f"{len(records)} records, {clusters} clusters, {len(result.pairs)} matching pairs",
        file=sys.stderr,
    )
    return 0


def handle_link(args: argparse.Namespace) -> int:
    from kinfolk.matching.pipeline import link

    left = _read(args.left)
    right = _read(args.right)
    result = link(left, right, threshold=args.threshold, unique=not args.many, guards=_guards(args))
    with open(args.output, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["left_record_id", "right_record_id", "match_probability"])
        for p in result.links:
            writer.writerow([p.left_id, p.right_id, f"{p.probability:.6f}"])
    print(f"{len(left)} + {len(right)} records, {len(result.links)} links", file=sys.stderr)
    return 0
