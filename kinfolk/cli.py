"""The ``kinfolk`` command.

Each sub-command lives beside the code it drives, in a module that exposes
``register(subparsers)``. Registration must stay cheap: heavy imports (Django,
Ibis, NumPy) belong inside the handler, so ``kinfolk --help`` answers at once.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Sub-command modules; a module that does not exist yet is simply skipped.
COMMAND_MODULES = (
    "kinfolk.core.cli",
    "kinfolk.outcomes.cli",
    "kinfolk.federal.cli",
    "kinfolk.simulate.cli",
    "kinfolk.matching.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kinfolk", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "func", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        result = handler(args)
    except CommandError as exc:
        print(f"kinfolk {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return int(result or 0)


class CommandError(Exception):
    """A user-facing error: printed without a traceback, exit status 2."""


if __name__ == "__main__":
    raise SystemExit(main())
