"""Rebuild the person-matching search index from the registry."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kinfolk.people import matchindex


class Command(BaseCommand):
    help = "Rebuild the person-matching search index (KINFOLK_MATCH_INDEX) from the database."

    def handle(self, *args: Any, **options: Any) -> None:
        count = matchindex.rebuild()
        self.stdout.write(f"Match index rebuilt: {count} records in {matchindex.index_path()}.")
