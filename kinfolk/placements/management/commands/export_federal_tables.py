from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kinfolk.core import audit
from kinfolk.federal.tables import write_tables
from kinfolk.placements.extract import federal_tables


class Command(BaseCommand):
    help = (
        "Write Kinfolk's children, episodes, placements and reports as the federal-shaped "
        "tables into DIR."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("directory")
        parser.add_argument("--format", choices=["parquet", "csv"], default="parquet")

    def handle(self, *args: Any, **options: Any) -> None:
        directory = Path(options["directory"])
        if directory.exists() and any(directory.iterdir()):
            raise CommandError(f"{directory} is not empty; choose an empty directory")
        tables = federal_tables()
        directory.mkdir(parents=True, exist_ok=True)
        write_tables(tables, directory, options["format"])
        counts = {name: table.num_rows for name, table in tables.items()}
        audit.record(user=None, action="export", record_type="federal_tables", detail=counts)
        self.stdout.write(", ".join(f"{name}: {n} rows" for name, n in counts.items()))
