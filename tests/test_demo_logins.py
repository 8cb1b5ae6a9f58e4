"""``make run`` serves the demo with KINFOLK_DEMO=1: the sign-in page lists who to sign in as."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from kinfolk.web.management.commands.load_demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


@override_settings(KINFOLK_DEMO=True)
def test_the_demo_sign_in_page_lists_the_demo_logins_and_their_password():
    page = Client().get("/login/").content.decode()
    assert "Demo county" in page and DEMO_PASSWORD in page
    assert "<code>hotline</code>" in page and "Hotline worker" in page
    assert "<code>auditor</code>" in page


@override_settings(KINFOLK_DEMO=False)
def test_a_real_deployment_never_shows_the_demo_password():
    page = Client().get("/login/").content.decode()
    assert DEMO_PASSWORD not in page and "Demo county" not in page
