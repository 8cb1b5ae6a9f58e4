"""Every POST in the API is safe to retry with an Idempotency-Key, not just the filing ones."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from kinfolk.core.api import ApiView
from kinfolk.people.models import Address

# The token exchange has no signed-in user to keep a key for.
NOT_IDEMPOTENT = {"TokenApi"}


def _api_views(patterns: Any = None, prefix: str = "") -> list[tuple[str, type]]:
    found: list[tuple[str, type]] = []
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            found += _api_views(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            view_class = getattr(entry.callback, "view_class", None)
            route = prefix + str(entry.pattern)
            if view_class is not None and route.startswith("api/v1/"):
                found.append((route, view_class))
    return found


def test_every_post_endpoint_replays_instead_of_repeating():
    posts = [(route, view) for route, view in _api_views() if hasattr(view, "post")]
    assert len(posts) >= 15
    for route, view in posts:
        if view.__name__ in NOT_IDEMPOTENT:
            continue
        assert issubclass(view, ApiView), route
        assert getattr(view, "post").idempotent, route  # noqa: B009 - typed as any view


def test_a_retried_address_post_adds_one_address(personas, person_in, client_for):
    person = person_in("ADM-N")
    client = client_for(personas["ines"])
    body = {"street": "12 Elm Street", "city": "Adamsville", "state": "MO", "postcode": "65001"}
    url = f"/api/v1/persons/{person.pk}/addresses/"
    first = client.post(
        url, body, content_type="application/json", headers={"Idempotency-Key": "a1"}
    )
    again = client.post(
        url, body, content_type="application/json", headers={"Idempotency-Key": "a1"}
    )
    assert first.status_code == again.status_code == 201, first.content
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Address.objects.filter(person=person).count() == 1


def test_the_schema_names_the_header_on_every_idempotent_post(client_for, personas):
    schema = client_for(personas["adam"]).get("/api/schema/?format=json").json()
    for path, operations in schema["paths"].items():
        post = operations.get("post")
        if post is None or path == "/api/v1/auth/token/":
            continue
        headers = {p["name"] for p in post.get("parameters", []) if p["in"] == "header"}
        assert "Idempotency-Key" in headers, path
