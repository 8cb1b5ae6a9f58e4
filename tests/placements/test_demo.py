"""The demo county (``make run``) has children in care for the hotline's prior history."""

from __future__ import annotations

from django.core.management import call_command

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
