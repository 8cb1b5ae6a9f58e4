"""The demo county (``make run``) has children in care for the hotline's prior history."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from kinfolk.core.models import User
from kinfolk.placements.models import Episode


def test_the_demo_has_a_child_in_care_whose_placement_the_hotline_sees(db, client_for):
    call_command("load_demo", people=40)
    episode = Episode.objects.get(discharge_date__isnull=True)
    assert episode.placements.count() == 2
    assert Episode.objects.filter(discharge_date__isnull=False).count() == 1
    hotline = User.objects.get(username="hotline")
    panel = (
        client_for(hotline)
        .get("/intake/history/", {"child1_person": str(episode.child_id)})
        .content.decode()
    )
    assert "In care: Foster family home (relative)" in panel
    assert "Open case" in panel


@pytest.mark.postgres
def test_the_demo_leaves_the_planner_statistics_of_what_it_loaded(db):
    """Autovacuum may be off or late: a freshly loaded person table must not look empty."""
    call_command("load_demo", people=40)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'people_person'")
        (estimated,) = cursor.fetchone()
    assert estimated >= 40
