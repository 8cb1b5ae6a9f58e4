"""Possible duplicates, merge and unmerge: every link moves, and comes back exactly."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from kinfolk.core import access
from kinfolk.core.models import AccessGrant, Assignment, AuditEvent
from kinfolk.intake.models import ChildContact
from kinfolk.people import matchindex, selectors, services
from kinfolk.people.models import (
    Person,
    PersonMerge,
    PersonStatus,
    PossibleDuplicate,
    Relationship,
)
from tests.intake.conftest import report_body


def _file(client: Any) -> dict[str, Any]:
    body = report_body()
    body["people"] = [p | {"confirmed_new": True} for p in body["people"]]
    response = client.post("/api/v1/reports/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()


def snapshot() -> dict[tuple[str, str, str], str]:
    """Every link to a person, in every app: (model, row, field) -> person id."""
    links: dict[tuple[str, str, str], str] = {}
    for model, field_name in services._links_to_person():
        for pk, person_id in model._default_manager.values_list("pk", f"{field_name}_id"):
            links[model._meta.label_lower, str(pk), field_name] = str(person_id)
    for pk, record_id in Assignment.objects.filter(record_type="person").values_list(
        "pk", "record_id"
    ):
        links["core.assignment", str(pk), "record_id"] = str(record_id)
    return links


@pytest.fixture
def family(personas, client_for) -> dict[str, Any]:
    """The same family reported twice, so each child has two records with links on both."""
    hana = client_for(personas["hana"])
    first, second = _file(hana), _file(hana)
    # Filing the second report, the worker confirmed "new person" for each child, which is
    # recorded per pair. Forget those confirmations: this family stands for records that
    # came in without the check (an old import), which is what the steward's queue is for.
    assert PossibleDuplicate.objects.filter(
        status=PossibleDuplicate.Status.CONFIRMED_DIFFERENT
    ).exists()
    PossibleDuplicate.objects.all().delete()
    people = list(Person.objects.filter(first_name="Mila").order_by("created_at"))
    assert len(people) == 2
    keep, dup = people
    leo_dup = Person.objects.filter(first_name="Leo").order_by("created_at")[1]
    ines = personas["ines"]
    services.person_name_add(
        user=ines, person_id=dup.pk, data={"kind": "nickname", "first_name": "Millie"}
    )
    services.person_identifier_set(user=ines, person_id=dup.pk, kind="medicaid", value="MC12345")
    services.person_address_add(
        user=ines,
        person_id=dup.pk,
        data={"street": "4 Pine Rd", "city": "Adamsville", "state": "DS"},
    )
    services.person_phone_add(user=ines, person_id=dup.pk, number="555-0100", kind="home")
    services.relationship_add(user=ines, person_id=dup.pk, related_id=leo_dup.pk, kind="sibling")
    services.relationship_add(user=ines, person_id=keep.pk, related_id=dup.pk, kind="sibling")
    services.household_create(
        user=ines, org_unit=dup.org_unit, label="Ortega household", members=[(dup, "child")]
    )
    Assignment.objects.create(user=ines, record_type="person", record_id=dup.pk)
    ChildContact.objects.create(
        report_id=second["id"],
        child=dup,
        contact_at=timezone.now(),
        location="School",
        recorded_by=ines,
    )
    return {"keep": keep, "dup": dup, "reports": (first, second)}


def _merge(client: Any, survivor: Any, merged: Any, reason: str = "Same child, reported twice"):
    return client.post(
        "/api/v1/persons/merges/",
        {"survivor": str(survivor), "merged": str(merged), "reason": reason},
        content_type="application/json",
    )


def test_merge_moves_every_link_and_unmerge_restores_exactly_the_previous_state(
    family, personas, client_for
):
    keep, dup = family["keep"], family["dup"]
    before = snapshot()
    on_dup = {k for k, v in before.items() if v == str(dup.pk)}
    # Reports, allegations, contacts, household, relationships, names, ids, addresses, phones...
    assert {k[0] for k in on_dup} >= {
        "intake.reportperson",
        "intake.allegation",
        "intake.childcontact",
        "people.householdmember",
        "people.relationship",
        "people.personname",
        "people.identifier",
        "people.address",
        "people.phone",
        "core.assignment",
    }
    sam = client_for(personas["sam"])
    response = _merge(sam, keep.pk, dup.pk)
    assert response.status_code == 201, response.content
    merge = PersonMerge.objects.get(pk=response.json()["id"])
    during = snapshot()
    # The sibling link between the two would point a person at themselves: it stays put.
    kept = {(e["model"], e["pk"], e["field"]) for e in merge.kept}
    assert kept == {
        ("people.relationship", str(r.pk), "related")
        for r in Relationship.objects.filter(person=keep, related=dup)
    }
    for key in on_dup - kept:
        assert during[key] == str(keep.pk), key
    assert {k for k, v in during.items() if v == str(dup.pk)} == kept
    dup.refresh_from_db()
    assert dup.status == PersonStatus.MERGED
    assert dup.merged_into_id == keep.pk
    assert Person.objects.filter(pk=dup.pk).exists()

    response = sam.post(
        f"/api/v1/persons/merges/{merge.pk}/unmerge/",
        {"reason": "They are twins after all"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert snapshot() == before
    dup.refresh_from_db()
    assert dup.status == PersonStatus.ACTIVE and dup.merged_into_id is None
    for person in (keep, dup):
        actions = set(
            AuditEvent.objects.filter(record_id=str(person.pk)).values_list("action", flat=True)
        )
        assert {"merge", "unmerge"} <= actions


def test_merge_and_unmerge_bump_both_versions_and_keep_history(family, personas):
    keep, dup = family["keep"], family["dup"]
    keep.refresh_from_db()
    dup.refresh_from_db()
    versions = (keep.version, dup.version)
    merge = services.person_merge(
        user=personas["sam"], survivor_id=keep.pk, merged_id=dup.pk, reason="Same child"
    )
    keep.refresh_from_db()
    dup.refresh_from_db()
    assert (keep.version, dup.version) == (versions[0] + 1, versions[1] + 1)
    services.person_unmerge(user=personas["sam"], merge_id=merge.pk, reason="Twins")
    dup.refresh_from_db()
    reasons = list(dup.history.values_list("history_change_reason", flat=True))
    assert "merge" in reasons and "unmerge" in reasons


def test_a_merged_record_is_no_longer_found_and_is_found_again_after_unmerge(
    family, personas, django_capture_on_commit_callbacks
):
    keep, dup = family["keep"], family["dup"]
    matchindex.rebuild()
    sam = personas["sam"]
    query = selectors.SearchQuery(name="Mila Ortega")

    def found() -> set[Any]:
        return {r.person.pk for r in selectors.person_search(user=sam, query=query)}

    assert {keep.pk, dup.pk} <= found()
    with django_capture_on_commit_callbacks(execute=True):
        merge = services.person_merge(
            user=sam, survivor_id=keep.pk, merged_id=dup.pk, reason="Same child"
        )
    index = matchindex.get_index(create=False)
    assert index is not None and str(dup.pk) not in index
    assert keep.pk in found() and dup.pk not in found()
    # The merged record's nickname now belongs to the survivor.
    millie = selectors.person_search(user=sam, query=selectors.SearchQuery(name="Millie Ortega"))
    assert millie and millie[0].person.pk == keep.pk
    with django_capture_on_commit_callbacks(execute=True):
        services.person_unmerge(user=sam, merge_id=merge.pk, reason="Twins")
    assert {keep.pk, dup.pk} <= found()


def test_a_worker_without_the_merge_permission_cannot_merge(family, personas, client_for):
    response = _merge(client_for(personas["ines"]), family["keep"].pk, family["dup"].pk)
    assert response.status_code == 403
    assert not PersonMerge.objects.exists()
    assert client_for(personas["ines"]).get("/api/v1/persons/duplicates/").status_code == 403


def test_a_merge_with_a_record_outside_the_users_scope_is_not_found(
    family, personas, client_for, person_in
):
    elsewhere = person_in("CED-1", first_name="Mila", last_name="Ortega")
    response = _merge(client_for(personas["sam"]), family["keep"].pk, elsewhere.pk)
    assert response.status_code == 404
    assert not PersonMerge.objects.exists()
    elsewhere.refresh_from_db()
    assert elsewhere.merged_into_id is None


def test_a_restricted_record_needs_a_grant_before_it_can_be_merged(
    family, personas, client_for, person_in
):
    hidden = person_in("ADM-N", first_name="Mila", last_name="Ortega", restricted=True)
    response = _merge(client_for(personas["sam"]), family["keep"].pk, hidden.pk)
    assert response.status_code == 404
    hidden.refresh_from_db()
    assert hidden.merged_into_id is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"survivor": "not-a-uuid"}, "survivor"),
        ({"merged": None}, "merged"),
        ({"extra": "x"}, "extra"),
    ],
)
def test_bad_merge_input_names_the_field(family, personas, client_for, body, field):
    payload = {
        "survivor": str(family["keep"].pk),
        "merged": str(family["dup"].pk),
        "reason": "Same child",
    } | body
    response = client_for(personas["sam"]).post(
        "/api/v1/persons/merges/", payload, content_type="application/json"
    )
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_a_record_cannot_be_merged_into_itself_or_twice(family, personas, client_for):
    sam = client_for(personas["sam"])
    keep, dup = family["keep"], family["dup"]
    assert _merge(sam, keep.pk, keep.pk).json()["fields"] == {
        "merged": ["A record cannot be merged into itself."]
    }
    assert _merge(sam, keep.pk, dup.pk).status_code == 201
    again = _merge(sam, keep.pk, dup.pk)
    assert again.status_code == 400 and "merged" in again.json()["fields"]


def test_people_with_different_ssns_are_not_merged(family, personas, client_for):
    ines = personas["ines"]
    services.person_identifier_set(
        user=ines, person_id=family["keep"].pk, kind="ssn", value="111223333"
    )
    services.person_identifier_set(
        user=ines, person_id=family["dup"].pk, kind="ssn", value="444556666"
    )
    response = _merge(client_for(personas["sam"]), family["keep"].pk, family["dup"].pk)
    assert response.status_code == 400
    assert "merged" in response.json()["fields"]


def test_unmerge_of_an_unknown_or_undone_merge_is_refused(family, personas, client_for):
    sam = client_for(personas["sam"])
    assert (
        sam.post(
            "/api/v1/persons/merges/00000000-0000-0000-0000-000000000000/unmerge/",
            {"reason": "Twins"},
            content_type="application/json",
        ).status_code
        == 404
    )
    merge_id = _merge(sam, family["keep"].pk, family["dup"].pk).json()["id"]
    url = f"/api/v1/persons/merges/{merge_id}/unmerge/"
    assert sam.post(url, {}, content_type="application/json").json()["fields"].keys() == {"reason"}
    assert sam.post(url, {"reason": "Twins"}, content_type="application/json").status_code == 200
    assert sam.post(url, {"reason": "Twins"}, content_type="application/json").status_code == 400


def test_the_merged_persons_page_says_where_it_went(family, personas, client_for):
    keep, dup = family["keep"], family["dup"]
    services.person_merge(
        user=personas["sam"], survivor_id=keep.pk, merged_id=dup.pk, reason="Same child"
    )
    page = client_for(personas["sam"]).get(f"/people/{dup.pk}/").content.decode()
    assert "merged into" in page
    assert f"/people/{keep.pk}/" in page


def test_find_duplicates_queues_pairs_with_an_explanation(family, personas, client_for):
    call_command("find_duplicates", stdout=open("/dev/null", "w"))  # noqa: SIM115
    pairs = client_for(personas["sam"]).get("/api/v1/persons/duplicates/").json()
    keep, dup = str(family["keep"].pk), str(family["dup"].pk)
    mila = [p for p in pairs if {p["person_a"]["id"], p["person_b"]["id"]} == {keep, dup}]
    assert mila, pairs
    assert mila[0]["probability"] > 0.5
    assert any("date of birth" in r for r in mila[0]["reasons"])


def test_a_queued_pairs_weights_add_up_to_its_probability(family, personas, client_for):
    call_command("find_duplicates", stdout=open("/dev/null", "w"))  # noqa: SIM115
    for pair in PossibleDuplicate.objects.all():
        weights = [float(r.split(" ", 1)[0].replace("\u2212", "-")) for r in pair.reasons]
        # Every line but a guard's note carries its weight; the last is the starting odds.
        assert pair.reasons[-1].endswith("starting odds, before any evidence")
        implied = 1 / (1 + 2 ** -sum(weights))
        # Lines under 0.05 are left out, so the sum is exact to a few hundredths of a bit.
        assert implied == pytest.approx(pair.probability, abs=0.02), pair.reasons


def test_the_duplicates_page_is_for_data_stewards_only(family, personas, client_for):
    call_command("find_duplicates", stdout=open("/dev/null", "w"))  # noqa: SIM115
    page = client_for(personas["sam"]).get("/people/duplicates/")
    assert page.status_code == 200
    assert "Keep which record?" in page.content.decode()
    assert client_for(personas["ines"]).get("/people/duplicates/").status_code == 403


def test_the_duplicates_page_merges_and_unmerges(family, personas, client_for):
    sam = client_for(personas["sam"])
    keep, dup = family["keep"], family["dup"]
    response = sam.post(
        "/people/duplicates/",
        {"action": "merge", "survivor": keep.pk, "merged": dup.pk, "reason": "Same child"},
    )
    assert response.status_code == 302
    merge = PersonMerge.objects.get()
    response = sam.post(
        "/people/duplicates/", {"action": "unmerge", "merge": merge.pk, "reason": ""}
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_the_steward_chooses_which_record_survives(family, personas, client_for):
    keep, dup = family["keep"], family["dup"]
    call_command("find_duplicates", stdout=open("/dev/null", "w"))  # noqa: SIM115
    response = client_for(personas["sam"]).post(
        "/people/duplicates/",
        {
            "action": "merge",
            "person": [str(keep.pk), str(dup.pk)],
            "survivor": str(dup.pk),
            "reason": "The newer record has the Medicaid number",
        },
    )
    assert response.status_code == 302
    merge = PersonMerge.objects.get()
    assert (merge.survivor_id, merge.merged_id) == (dup.pk, keep.pk)


def test_a_survivor_outside_the_pair_is_refused_on_the_page(
    family, personas, client_for, person_in
):
    other = person_in("ADM-N", first_name="Zed", last_name="Quill")
    response = client_for(personas["sam"]).post(
        "/people/duplicates/",
        {
            "action": "merge",
            "person": [str(family["keep"].pk), str(family["dup"].pk)],
            "survivor": str(other.pk),
            "reason": "Same child",
        },
    )
    assert response.status_code == 400
    assert "Choose which record to keep." in response.content.decode()
    assert not PersonMerge.objects.exists()


def test_creating_a_person_confirmed_different_records_the_pair(family, personas, client_for):
    keep, dup = family["keep"], family["dup"]
    response = client_for(personas["ines"]).post(
        "/api/v1/persons/",
        {
            "first_name": "Mila",
            "last_name": "Ortega",
            "date_of_birth": "2016-05-04",
            "org_unit": "ADM-N",
            "different_from": [str(keep.pk), str(dup.pk)],
            "confirmation_reason": "Cousin with the same name and birthday",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    new_id = response.json()["id"]
    pairs = PossibleDuplicate.objects.filter(source="confirmation")
    assert {frozenset({str(p.person_a_id), str(p.person_b_id)}) for p in pairs} == {
        frozenset({new_id, str(keep.pk)}),
        frozenset({new_id, str(dup.pk)}),
    }
    pair = next(p for p in pairs if keep.pk in (p.person_a_id, p.person_b_id))
    # The pair keeps the probability and weighted evidence the worker was shown.
    assert pair.probability >= 0.5 and pair.reasons
    assert pair.status == PossibleDuplicate.Status.CONFIRMED_DIFFERENT
    assert AuditEvent.objects.filter(
        record_id=new_id, detail__confirmed_different_from=str(keep.pk)
    ).exists()
    # A later de-duplication run does not put the confirmed pair back in the queue.
    call_command("find_duplicates", stdout=open("/dev/null", "w"))  # noqa: SIM115
    pair.refresh_from_db()
    assert pair.status == PossibleDuplicate.Status.CONFIRMED_DIFFERENT
    listed = client_for(personas["sam"]).get("/api/v1/persons/duplicates/").json()
    assert not [
        p for p in listed if {p["person_a"]["id"], p["person_b"]["id"]} == {new_id, str(keep.pk)}
    ]  # noqa: E501


def test_a_confirmation_needs_a_reason(family, personas, client_for):
    response = client_for(personas["ines"]).post(
        "/api/v1/persons/",
        {
            "first_name": "Mila",
            "last_name": "Ortega",
            "org_unit": "ADM-N",
            "different_from": [str(family["keep"].pk)],
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "confirmation_reason" in response.json()["fields"]
    assert Person.objects.filter(first_name="Mila").count() == 2


def test_the_api_shows_where_a_merged_record_went(family, personas, client_for):
    keep, dup = family["keep"], family["dup"]
    services.person_merge(
        user=personas["sam"], survivor_id=keep.pk, merged_id=dup.pk, reason="Same child"
    )
    body = client_for(personas["sam"]).get(f"/api/v1/persons/{dup.pk}/").json()
    assert body["status"] == "merged"
    assert body["merged_into"] == str(keep.pk)


# --- Restriction follows the data ----------------------------------------------------------


@pytest.fixture
def restricted_dup(family, personas) -> Any:
    """The duplicate is restricted (an employee's child); ines holds a grant on it."""
    dup = family["dup"]
    Person.objects.filter(pk=dup.pk).update(restricted=True)
    access.grant_access(
        granted_by=personas["adam"], user=personas["ines"], record=dup, reason="Her case"
    )
    access.grant_access(
        granted_by=personas["adam"], user=personas["sam"], record=dup, reason="Supervises it"
    )
    dup.refresh_from_db()
    return dup


def test_merging_a_restricted_record_restricts_the_survivor(
    family, personas, client_for, restricted_dup
):
    keep = family["keep"]
    carla = client_for(personas["carla"])  # case worker in Adams South: in scope, no grant
    path = f"/api/v1/persons/{keep.pk}/"
    assert client_for(personas["felix"]).get(path).status_code == 200
    response = _merge(client_for(personas["sam"]), keep.pk, restricted_dup.pk)
    assert response.status_code == 201, response.content
    keep.refresh_from_db()
    assert keep.restricted
    # The restricted child's names, addresses and phones are not shown to anyone in scope...
    assert client_for(personas["felix"]).get(path).status_code == 404
    assert carla.get(path).status_code == 404
    # ...but those granted the merged record still see the child.
    assert client_for(personas["ines"]).get(path).status_code == 200
    merge = PersonMerge.objects.get()
    assert merge.survivor_was_restricted is False
    assert len(merge.grants_added) == 2


def test_unmerge_restores_the_survivors_restriction_and_revokes_the_carried_grants(
    family, personas, client_for, restricted_dup
):
    keep = family["keep"]
    merge = services.person_merge(
        user=personas["sam"], survivor_id=keep.pk, merged_id=restricted_dup.pk, reason="Same"
    )
    services.person_unmerge(user=personas["sam"], merge_id=merge.pk, reason="Cousins")
    keep.refresh_from_db()
    restricted_dup.refresh_from_db()
    assert not keep.restricted
    assert restricted_dup.restricted
    assert not AccessGrant.objects.filter(record_id=keep.pk, revoked_at__isnull=True).exists()
    assert client_for(personas["felix"]).get(f"/api/v1/persons/{keep.pk}/").status_code == 200
    assert (
        client_for(personas["ines"]).get(f"/api/v1/persons/{restricted_dup.pk}/").status_code == 200
    )


def test_merging_an_unrestricted_record_into_a_restricted_one_keeps_it_restricted(
    family, personas, restricted_dup
):
    merge = services.person_merge(
        user=personas["sam"],
        survivor_id=restricted_dup.pk,
        merged_id=family["keep"].pk,
        reason="Same child",
    )
    restricted_dup.refresh_from_db()
    assert restricted_dup.restricted
    assert merge.grants_added == []


# --- The merged record's own spelling stays findable ----------------------------------------


def test_a_search_under_the_merged_records_spelling_finds_the_survivor(
    family, personas, django_capture_on_commit_callbacks
):
    keep, dup = family["keep"], family["dup"]
    sam = personas["sam"]
    Person.objects.filter(pk=dup.pk).update(first_name="Milagros")
    matchindex.rebuild()
    query = selectors.SearchQuery(name="Milagros Ortega")
    with django_capture_on_commit_callbacks(execute=True):
        merge = services.person_merge(
            user=sam, survivor_id=keep.pk, merged_id=dup.pk, reason="Same child"
        )
    index = matchindex.get_index(create=False)
    assert index is not None
    assert matchindex.alias_record_id(keep.pk, dup.pk) in index
    found = selectors.person_search(user=sam, query=query)
    assert found and found[0].person.pk == keep.pk
    assert "known by another name" in found[0].reasons
    with django_capture_on_commit_callbacks(execute=True):
        services.person_unmerge(user=sam, merge_id=merge.pk, reason="Cousins")
    assert matchindex.alias_record_id(keep.pk, dup.pk) not in index
    found = selectors.person_search(user=sam, query=query)
    assert found and found[0].person.pk == dup.pk


def test_a_rebuilt_index_keeps_the_merged_records_spelling_with_the_survivor(family, personas):
    keep, dup = family["keep"], family["dup"]
    Person.objects.filter(pk=dup.pk).update(first_name="Milagros")
    services.person_merge(
        user=personas["sam"], survivor_id=keep.pk, merged_id=dup.pk, reason="Same child"
    )
    matchindex.rebuild()
    index = matchindex.get_index(create=False)
    assert index is not None
    assert matchindex.alias_record_id(keep.pk, dup.pk) in index
    assert str(dup.pk) not in index
