from typing import Any

from django.core.management import get_commands
from django.core.management.base import BaseCommand, CommandError

from kinfolk.federal.tables import TableError
from kinfolk.intake.load import AlreadyLoaded, load_simulation


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
            f"loaded {result.people} children, {result.reports} reports, "
            f"{result.allegations} allegations, {result.org_units} org units "
            f"in {result.seconds} s"
        )
        if "rebuild_match_index" in get_commands():
            from django.core.management import call_command

            call_command("rebuild_match_index")
