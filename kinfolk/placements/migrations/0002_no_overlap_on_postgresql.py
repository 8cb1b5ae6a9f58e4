"""On PostgreSQL the database itself refuses overlapping episodes of a child and overlapping
placements of an episode (exclusion constraints over date ranges; they need ``btree_gist`` for
the equality part). SQLite has no such constraint: there the services' checks stand alone.

Ranges: an episode is ``[removal, discharge)`` (a same-day return is a new episode), a placement
``[start, end]`` (its end is its last day).
"""

from django.db import migrations

CONSTRAINTS = (
    (
        "placements_episode",
        "episode_no_overlap_per_child",
        "child_id WITH =, daterange(removal_date, discharge_date, '[)') WITH &&",
    ),
    (
        "placements_placement",
        "placement_no_overlap_per_episode",
        "episode_id WITH =, daterange(start_date, end_date, '[]') WITH &&",
    ),
)


def add(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for table, name, body in CONSTRAINTS:
        schema_editor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} EXCLUDE USING gist ({body})"
        )


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, _ in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("placements", "0001_initial")]

    operations = [migrations.RunPython(add, remove)]
