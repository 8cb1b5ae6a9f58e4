"""``kinfolk simulate run`` and ``kinfolk simulate check``.

Registration stays cheap: NumPy and Arrow are imported inside the handlers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from kinfolk.cli import CommandError

if TYPE_CHECKING:
    from kinfolk.simulate.params import Params

SCALES = ("county", "state", "nation")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="synthetic child-welfare histories (federal-shaped tables, persons file)",
        description="Simulate a county, state or nation: reports, episodes, placements, persons.",
    )
    commands = parser.add_subparsers(dest="simulate_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args: _usage(parser))

    run = commands.add_parser("run", help="simulate and write a table directory")
    # No argparse `choices` for the scale: a bad value gets our own clear message (exit 2).
    run.add_argument("--scale", required=True, help="county (~50,000 children), state, nation")
    run.add_argument("--years", required=True, type=int, help="years to simulate after warm-up")
    run.add_argument("--seed", required=True, type=int, help="random seed (same seed, same bytes)")
    run.add_argument("--output", required=True, type=Path, help="output directory")
    run.add_argument("--format", default="parquet", help="parquet (default) or csv")
    run.add_argument("--force", action="store_true", help="overwrite a non-empty directory")
    run.add_argument(
        "--params", type=Path, default=None, help="parameter YAML (default: the bundled one)"
    )
    run.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: up to 2)"
    )
    run.set_defaults(func=handle_run)

    check = commands.add_parser("check", help="headline rates of a simulated directory")
    check.add_argument("directory", type=Path)
    check.add_argument("--params", type=Path, default=None, help="parameter YAML with targets")
    check.set_defaults(func=handle_check)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _params(path: Path | None) -> Params:
    from kinfolk.simulate.params import ParamError, load_params

    try:
        return load_params(path)
    except ParamError as exc:
        raise CommandError(f"bad parameter file: {exc}") from None


def handle_run(args: argparse.Namespace) -> int:
    import time

    from kinfolk.simulate.output import (
        RunConfig,
        SimulationError,
        check_output_dir,
        default_workers,
        make_plan,
        run,
    )

    if args.scale not in SCALES:
        raise CommandError(f"unknown scale {args.scale!r}; choose county, state or nation")
    if args.years < 1:
        raise CommandError(f"--years must be a positive number of years, got {args.years}")
    params = _params(args.params)
    workers = args.workers if args.workers is not None else default_workers()
    config = RunConfig(
        scale=args.scale,
        years=args.years,
        seed=args.seed,
        output=args.output,
        fmt=args.format,
        force=args.force,
        params=params,
        workers=max(1, workers),
        progress=sys.stderr.isatty(),
    )
    try:
        # Refuse before writing anything: plan (scale, format, ...) and the directory.
        plan = make_plan(config)
        check_output_dir(config.output, config.force)
        started = time.perf_counter()
        manifest = run(config)
    except SimulationError as exc:
        raise CommandError(str(exc)) from None
    seconds = time.perf_counter() - started
    rows = manifest["rows"]
    print(
        f"simulated {args.scale} ({plan.children:,} children, {manifest['households']:,} "
        f"households) {manifest['start_date']} to {manifest['end_date']} "
        f"(warm-up {manifest['warmup_years']} + {args.years} years) in {seconds:.1f} s"
    )
    for name, count in rows.items():
        print(f"  {name:14} {count:>12,} rows")
    print(f"written to {args.output}")
    return 0


def handle_check(args: argparse.Namespace) -> int:
    from kinfolk.simulate.check import format_rates, headline_rates

    directory: Path = args.directory
    if not (directory / "simulation.json").is_file():
        raise CommandError(f"{directory} is not a simulator output (no simulation.json)")
    params = _params(args.params)
    try:
        rates = headline_rates(directory, params)
    except ValueError as exc:  # TableError is a ValueError: a damaged table directory
        raise CommandError(str(exc)) from None
    print(format_rates(rates))
    return 0
