"""Queue possible duplicate persons for a data steward's review."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kinfolk.people import services


class Command(BaseCommand):
    help = "De-duplicate the registry and queue the likely pairs for review (never merges)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--threshold",
            type=float,
            default=None,
            help="Match probability to queue a pair (default: policy matching.possible_duplicate).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count = services.duplicates_find(threshold=options["threshold"])
        self.stdout.write(f"{count} possible duplicate pairs queued for review.")
