"""The hotline's OpenAPI schema describes what the endpoints really return."""

from __future__ import annotations


def _schema(personas, client_for):
    return client_for(personas["hana"]).get("/api/schema/?format=json").json()


def _ref(schema, response):
    ref = response["content"]["application/json"]["schema"]["$ref"]
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def test_prior_history_is_an_object_of_people_and_related_reports(personas, client_for):
    schema = _schema(personas, client_for)
    ok = schema["paths"]["/api/v1/reports/prior-history/"]["get"]["responses"]["200"]
    body = _ref(schema, ok)
    assert body["type"] == "object"
    assert set(body["properties"]) == {"people", "related_open_reports"}


def test_the_queue_names_its_three_lists(personas, client_for):
    schema = _schema(personas, client_for)
    ok = schema["paths"]["/api/v1/reports/queue/"]["get"]["responses"]["200"]
    body = _ref(schema, ok)
    assert set(body["properties"]) == {"awaiting_approval", "unassigned", "due"}
    assert body["properties"]["due"]["type"] == "array"


def test_the_schema_lists_close_and_the_draft_list(personas, client_for):
    paths = _schema(personas, client_for)["paths"]
    assert "post" in paths["/api/v1/reports/{report_id}/close/"]
    assert "get" in paths["/api/v1/reports/drafts/"]
