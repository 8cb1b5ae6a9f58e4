from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kinfolk.core import audit


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; exit non-zero at the first broken row."

    def handle(self, *args: Any, **options: Any) -> None:
        result = audit.verify()
        if not result.ok:
            raise CommandError(
                f"audit chain broken at row {result.first_bad_id}: {result.problem} "
                f"({result.rows} rows read)"
            )
        self.stdout.write(f"audit chain intact: {result.rows} rows verified")
