import time
from typing import Any

from django.core.management import get_commands
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from kinfolk.core.services import planner_statistics_refresh
from kinfolk.federal.tables import TableError
from kinfolk.intake.load import AlreadyLoaded, load_simulation
from kinfolk.placements.load import LoadError, load_placements


class Command(BaseCommand):
    help = (
        "Load a simulator run (kinfolk simulate run ... --output DIR) into the database: people, "
        "households, reports, then resource homes, cases, episodes and placements."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("directory")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        try:
            # One transaction: a run refused half-way (say, an overlapping episode) loads nothing.
            with transaction.atomic():
                result = load_simulation(options["directory"])
                care = load_placements(
                    options["directory"],
                    people=result.people_by_id,
                    reports=result.reports_by_number,
                )
        except (TableError, FileNotFoundError, AlreadyLoaded, LoadError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"loaded {result.people} children, {result.caregivers} caregivers and relatives, "
            f"{result.households} households, {result.relationships} relationships, "
            f"{result.reports} reports, {result.allegations} allegations, "
            f"{result.org_units} org units in {result.seconds} s"
        )
        self.stdout.write(
            f"loaded {care.resource_homes} resource homes, {care.cases} cases "
            f"({care.case_members} members), {care.episodes} episodes, "
            f"{care.placements} placements in {care.seconds} s"
        )
        planner_statistics_refresh()
        if "rebuild_match_index" in get_commands():
            from django.core.management import call_command

            call_command("rebuild_match_index")
        self.stdout.write(f"total {time.monotonic() - started:.1f} s")
