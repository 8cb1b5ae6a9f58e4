from typing import Any

from django.core.management import get_commands
from django.core.management.base import BaseCommand, CommandError

from kinfolk.federal.tables import TableError
from kinfolk.intake.load import NOT_LOADED, AlreadyLoaded, load_simulation


class Command(BaseCommand):
    help = "Load a simulator run (kinfolk simulate run ... --output DIR) into the database."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("directory")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = load_simulation(options["directory"])
        except (TableError, FileNotFoundError, AlreadyLoaded) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"loaded {result.people} children, {result.caregivers} caregivers and relatives, "
            f"{result.households} households, {result.relationships} relationships, "
            f"{result.reports} reports, {result.allegations} allegations, "
            f"{result.org_units} org units in {result.seconds} s"
        )
        self.stdout.write(NOT_LOADED)
        if "rebuild_match_index" in get_commands():
            from django.core.management import call_command

            call_command("rebuild_match_index")
