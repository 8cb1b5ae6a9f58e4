"""Bad input on every endpoint that takes a body: a clear 4xx, never a 5xx, and nothing saved.

The endpoints are read from the URL resolver, so a new POST/PATCH/PUT under ``/api/v1/`` fails
``test_every_write_endpoint_has_a_bad_input_case`` until it gets a case here. Each case names
the user allowed to call it, a body that is accepted as it stands (checked first, so every
mutation is known to reach validation), and the input serializer, which tells a free-text
field (where ``<script>`` is just text) from a constrained one (where it must be refused).

Every request runs in a savepoint that is rolled back afterwards, so one accepted mutation
cannot change what the next one meets; "nothing saved" is checked inside the savepoint.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework import serializers

from kinfolk.core import api_views as core_api
from kinfolk.core.api import SafeCharField
from kinfolk.core.models import AuditEvent
from kinfolk.intake import api as intake_api
from kinfolk.people import api as people_api
from kinfolk.people import services as people_services
from tests.conftest import PASSWORD
from tests.intake.conftest import report_body

OVERLONG = "x" * 100_000
# Text the database cannot store, in any field.
UNSTORABLE = ["A\x00B", "bad\ud800surrogate", "bell\x07"]
# Text that is only text: refused by constrained fields, stored verbatim by free-text ones.
HOSTILE = [
    "<script>alert('x')</script><img src=x onerror=alert(1)>",
    "Robert'); DROP TABLE people_person;-- ' OR '1'='1",
    "\u202eevil\u202c 👩\u200d👧\u200d👦 Zoë",
]
DEEP: dict[str, Any] = {}
for _ in range(500):
    DEEP = {"a": DEEP}
NOT_AN_OBJECT = ["[]", "[1, 2]", "42", "null", '"a string"', "true", ""]
MALFORMED = ["{", '{"first_name": }', "[1, 2", "{'single': 'quotes'}", '{"a": 1}}']
UNKNOWN_FIELDS: list[dict[str, Any]] = [
    {"is_admin": True},
    {"<script>alert(1)</script>": 1},
    {"'; DROP TABLE x;--": "y"},
    {"nul\x00key": 1},
    {"surrogate\ud800key": 1},
    {"y" * 10_000: 1},
]


# --- What the database holds ------------------------------------------------------------------


def _snapshot() -> tuple[int, ...]:
    """Rows (and the sum of versions, so an update shows) of every Kinfolk table but the audit.

    The audit trail is left out: a refused read is audited on purpose. Login throttling rows
    (django-axes) are not Kinfolk's tables either: a failed token request counts by design.
    """
    with connection.cursor() as cursor:
        cursor.execute(_snapshot_query()[0])
        return tuple(cursor.fetchone())


@functools.cache
def _snapshot_query() -> tuple[str, list[str]]:
    """One query for every table (it runs twice for every probe), and what each column is."""
    q = connection.ops.quote_name
    parts, labels = [], []
    for model in apps.get_models():
        label = model._meta.label
        if not model.__module__.startswith("kinfolk.") and label != "authtoken.Token":
            continue
        if model is AuditEvent:
            continue
        table = q(model._meta.db_table)
        parts.append(f"(SELECT COUNT(*) FROM {table})")
        labels.append(label)
        if any(f.name == "version" for f in model._meta.concrete_fields):
            parts.append(f"(SELECT COALESCE(SUM({q('version')}), 0) FROM {table})")
            labels.append(f"{label}.version")
    return "SELECT " + ", ".join(parts), labels  # noqa: S608 (table names from the models)


# --- The endpoints --------------------------------------------------------------------------


def _write_endpoints() -> set[tuple[str, str]]:
    """Every (route under /api/v1/, method) whose view takes a body."""
    found: set[tuple[str, str]] = set()

    def walk(patterns: list[Any], prefix: str) -> None:
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern) and route.startswith("api/v1/"):
                view = getattr(p.callback, "cls", None) or getattr(p.callback, "view_class", None)
                for method in ("post", "put", "patch"):
                    if view is not None and hasattr(view, method):
                        found.add((route.removeprefix("api/v1/"), method))

    walk(get_resolver().url_patterns, "")
    return found


@dataclass
class Call:
    client: Client
    url: str
    body: dict[str, Any]
    ok: int  # the status the body as given gets
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    personas: dict[str, Any]
    person_in: Callable[..., Any]
    client_for: Callable[..., Client]

    def as_(self, who: str) -> Client:
        return self.client_for(self.personas[who])

    def report(self, state: str = "submitted") -> dict[str, Any]:
        """A report filed in Adams North and moved along to ``state`` through the API."""
        people = [p | {"confirmed_new": True} for p in report_body()["people"]]
        report = _ok(self.as_("hana").post("/api/v1/reports/", report_body(people=people), **J))
        rid = report["id"]
        if state == "submitted":
            return report
        screen = {"decision": "in", "narrative": "Physical abuse alleged by a teacher."}
        report = _ok(self.as_("hana").post(f"/api/v1/reports/{rid}/screen/", screen, **J))
        if state == "screened_in":
            return report
        report = _ok(self.as_("hector").post(f"/api/v1/reports/{rid}/approve/", {}, **J))
        if state == "approved":
            return report
        report = _ok(
            self.as_("hector").post(
                f"/api/v1/reports/{rid}/assign/",
                {"assignee": "ines"},
                headers={"If-Match": f'"{report["version"]}"'},
                **J,
            )
        )
        return report


J: dict[str, Any] = {"content_type": "application/json"}


def _ok(response: Any) -> Any:
    assert response.status_code < 300, response.content
    return response.json()


PERSON_FIELDS = {
    "first_name": "Marisol",
    "middle_name": "Ana",
    "last_name": "Quintero",
    "suffix": "Jr",
    "date_of_birth": "2015-03-04",
    "dob_precision": "exact",
    "sex": "2",
    "race_white": True,
    "hispanic": "1",
    "tribal_affiliation": "Osage Nation",
}


def _token(w: World) -> Call:
    return Call(Client(), "auth/token/", {"username": "ines", "password": PASSWORD}, 200)


def _users(w: World) -> Call:
    body = {
        "username": "newuser",
        "password": "long-enough-pass-7",
        "display_name": "New User",
        "email": "new@example.org",
        "roles": [{"role": "investigator", "org_unit": "ADM-N"}],
    }
    return Call(w.as_("adam"), "users/", body, 201)


def _user_roles(w: World) -> Call:
    url = f"users/{w.personas['ines'].pk}/roles/"
    return Call(w.as_("adam"), url, {"role": "case_worker", "org_unit": "ADM-S"}, 201)


def _user_supervisor(w: World) -> Call:
    url = f"users/{w.personas['carla'].pk}/supervisor/"
    return Call(w.as_("adam"), url, {"supervisor": "sam"}, 200)


def _households(w: World) -> Call:
    child = w.person_in("ADM-N")
    body = {
        "label": "Quintero household",
        "org_unit": "ADM-N",
        "members": [{"person": str(child.pk), "role": "child"}],
    }
    return Call(w.as_("ines"), "households/", body, 201)


def _persons(w: World) -> Call:
    body = PERSON_FIELDS | {
        "org_unit": "ADM-N",
        "ssn": "123-45-6789",
        "names": [{"kind": "alias", "first_name": "Mari", "last_name": "Quintero"}],
        "addresses": [
            {
                "street": "1 Main St",
                "unit": "2B",
                "city": "Adamsville",
                "state": "MO",
                "postcode": "65101",
                "county": "Adams",
                "valid_from": "2020-01-01",
            }
        ],
        "phones": [{"number": "555-201-3344", "kind": "home"}],
        "confirmation_reason": "",
    }
    return Call(w.as_("ines"), "persons/", body, 201)


def _merges(w: World) -> Call:
    a, b = w.person_in("ADM-N"), w.person_in("ADM-N")
    body = {"survivor": str(a.pk), "merged": str(b.pk), "reason": "The same child twice."}
    return Call(w.as_("sam"), "persons/merges/", body, 201)


def _unmerge(w: World) -> Call:
    a, b = w.person_in("ADM-N"), w.person_in("ADM-N")
    merge = people_services.person_merge(
        user=w.personas["sam"], survivor_id=a.pk, merged_id=b.pk, reason="The same child."
    )
    url = f"persons/merges/{merge.pk}/unmerge/"
    return Call(w.as_("sam"), url, {"reason": "Not the same child after all."}, 200)


def _person_patch(w: World) -> Call:
    person = w.person_in("ADM-N")
    body = {k: v for k, v in PERSON_FIELDS.items() if k != "date_of_birth"}
    return Call(w.as_("ines"), f"persons/{person.pk}/", body, 200, {"If-Match": '"1"'})


def _sub(suffix: str, body: dict[str, Any], ok: int, unit: str = "ADM-N") -> Callable[..., Call]:
    def make(w: World) -> Call:
        person = w.person_in(unit)
        data = {k: (str(w.person_in("ADM-N").pk) if v == "<other>" else v) for k, v in body.items()}
        return Call(w.as_("ines"), f"persons/{person.pk}/{suffix}", data, ok)

    return make


def _reports(w: World) -> Call:
    people = [p | {"confirmed_new": True} for p in report_body()["people"]]
    return Call(w.as_("hana"), "reports/", report_body(people=people), 201)


def _draft(w: World) -> Call:
    body = {"data": {"narrative": "Typed so far", "people": [{"first_name": "Mila"}]}}
    return Call(w.as_("hana"), "reports/drafts/call-1/", body, 200)


def _screen(w: World) -> Call:
    report = w.report("submitted")
    body = {
        "decision": "in",
        "narrative": "Physical abuse alleged by a teacher.",
        "reason": "",
        "serious_injury": False,
        "safety_threat": False,
        "low_risk": False,
        "track": "",
        "priority": "",
        "override_reason": "",
        "information_referral": "",
    }
    return Call(w.as_("hana"), f"reports/{report['id']}/screen/", body, 200)


def _approve(w: World) -> Call:
    report = w.report("screened_in")
    return Call(w.as_("hector"), f"reports/{report['id']}/approve/", {"note": "Agreed."}, 200)


def _send_back(w: World) -> Call:
    report = w.report("screened_in")
    body = {"reason": "Ask the reporter about the younger child."}
    return Call(w.as_("hector"), f"reports/{report['id']}/send-back/", body, 200)


def _assign(w: World) -> Call:
    report = w.report("approved")
    url = f"reports/{report['id']}/assign/"
    return Call(
        w.as_("hector"), url, {"assignee": "ines"}, 200, {"If-Match": f'"{report["version"]}"'}
    )


def _close(w: World) -> Call:
    report = w.report("approved")
    body = {"summary": "Closed: the family took up the community referral."}
    return Call(w.as_("hector"), f"reports/{report['id']}/close/", body, 200)


def _contacts(w: World) -> Call:
    report = w.report("assigned")
    body = {
        "child": next(p for p in report["people"] if p["role"] == "alleged_victim")["person"]["id"],
        "contact_at": (timezone.now() - timedelta(minutes=1)).isoformat(),
        "location": "At school",
    }
    return Call(w.as_("ines"), f"reports/{report['id']}/contacts/", body, 201)


ADDRESS = {
    "street": "1 Main St",
    "unit": "2B",
    "city": "Adamsville",
    "state": "MO",
    "postcode": "65101",
    "county": "Adams",
    "valid_from": "2020-01-01",
}

# (route, method) -> (how to make the call, the input serializer)
CASES: dict[tuple[str, str], tuple[Callable[[World], Call], type[serializers.Serializer[Any]]]] = {
    ("auth/token/", "post"): (_token, core_api.TokenIn),
    ("users/", "post"): (_users, core_api.UserCreateIn),
    ("users/<int:user_id>/roles/", "post"): (_user_roles, core_api.RoleIn),
    ("users/<int:user_id>/supervisor/", "post"): (_user_supervisor, core_api.SupervisorIn),
    ("households/", "post"): (_households, people_api.HouseholdIn),
    ("persons/", "post"): (_persons, people_api.PersonCreateIn),
    ("persons/merges/", "post"): (_merges, people_api.MergeIn),
    ("persons/merges/<str:merge_id>/unmerge/", "post"): (_unmerge, people_api.UnmergeIn),
    ("persons/<str:person_id>/", "patch"): (_person_patch, people_api.PersonUpdateIn),
    ("persons/<str:person_id>/addresses/", "post"): (
        _sub("addresses/", ADDRESS, 201),
        people_api.AddressIn,
    ),
    ("persons/<str:person_id>/names/", "post"): (
        _sub("names/", {"kind": "alias", "first_name": "Mimi", "last_name": "Q"}, 201),
        people_api.NameIn,
    ),
    ("persons/<str:person_id>/identifiers/", "post"): (
        _sub("identifiers/", {"kind": "ssn", "value": "123-45-6789"}, 200),
        people_api.IdentifierIn,
    ),
    ("persons/<str:person_id>/relationships/", "post"): (
        _sub(
            "relationships/",
            {"related": "<other>", "kind": "sibling", "started": "2020-01-01"},
            201,
        ),
        people_api.RelationshipIn,
    ),
    ("persons/<str:person_id>/break-glass/", "post"): (
        _sub("break-glass/", {"reason": "Child at hospital after hours"}, 201, unit="CED-1"),
        people_api.BreakGlassIn,
    ),
    ("reports/", "post"): (_reports, intake_api.ReportFileIn),
    ("reports/drafts/<str:key>/", "put"): (_draft, intake_api.DraftIn),
    ("reports/<str:report_id>/screen/", "post"): (_screen, intake_api.ScreenIn),
    ("reports/<str:report_id>/approve/", "post"): (_approve, intake_api.NoteIn),
    ("reports/<str:report_id>/send-back/", "post"): (_send_back, intake_api.SendBackIn),
    ("reports/<str:report_id>/assign/", "post"): (_assign, intake_api.AssignIn),
    ("reports/<str:report_id>/contacts/", "post"): (_contacts, intake_api.ContactIn),
    ("reports/<str:report_id>/close/", "post"): (_close, intake_api.CloseIn),
}


def test_every_write_endpoint_has_a_bad_input_case() -> None:
    assert _write_endpoints() == set(CASES)


# --- Mutations of a good body ---------------------------------------------------------------

Path = tuple[str | int, ...]


def _leaves(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every scalar in the body (of a list, the first item's: the others share its shape)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list):
        if value:
            yield from _leaves(value[0], (*path, 0))
    else:
        yield path, value


def _objects(value: Any, path: Path = ()) -> Iterator[Path]:
    """The path of every JSON object in the body (the body itself first; lists: first item)."""
    if isinstance(value, dict):
        yield path
        for k, v in value.items():
            yield from _objects(v, (*path, k))
    elif isinstance(value, list) and value:
        yield from _objects(value[0], (*path, 0))


def _replace(body: Any, path: Path, new: Any) -> Any:
    if not path:
        return new
    copy = json.loads(json.dumps(body))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return copy


def _merge_into(body: Any, path: Path, extra: dict[str, Any]) -> Any:
    copy = json.loads(json.dumps(body))
    target = copy
    for step in path:
        target = target[step]
    target.update(extra)
    return copy


def _field_at(serializer: Any, path: Path) -> Any:
    """The serializer field a body path lands on (None inside free-form JSON)."""
    current = serializer
    for step in path:
        if isinstance(step, int) and isinstance(
            current, serializers.ListSerializer | serializers.ListField
        ):
            current = current.child
        elif isinstance(current, serializers.Serializer):
            current = current.fields[str(step)]
        else:
            return None  # inside a DictField: any JSON is accepted
    return current


def _free_json(field_: Any) -> bool:
    return field_ is None or isinstance(field_, serializers.DictField)


def _is_free_text(field_: Any) -> bool:
    return _free_json(field_) or type(field_) in (SafeCharField, serializers.CharField)


def _wrong_type(value: Any) -> Any:
    if isinstance(value, dict):
        return ["not", "an", "object"]
    if isinstance(value, list):
        return "not a list"
    return {"not": "a scalar"}


@dataclass
class Probe:
    """One bad request and what it must get."""

    label: str
    raw: str | bytes
    field: str | None = None  # a 400 must name this field ("*": some field)
    may_pass: bool = False  # free text: storing it verbatim is fine too


def _probes(call: Call, serializer: Any) -> Iterator[Probe]:
    body = call.body
    for raw in MALFORMED:
        yield Probe(f"malformed {raw!r}", raw)
    yield Probe("not UTF-8", b'{"a": "\xff\xfe"}')
    yield Probe("deeply nested", "[" * 100_000 + "]" * 100_000)
    for raw in NOT_AN_OBJECT:
        # An empty body is an empty object: accepted where no field is required.
        yield Probe(f"not an object {raw!r}", raw, may_pass=raw == "")
    for where in _objects(body):
        inside_free_json = _free_json(_field_at(serializer, where))
        for extra in UNKNOWN_FIELDS:
            name = next(iter(extra))
            yield Probe(
                f"unknown field {name[:20]!r} at {where}",
                json.dumps(_merge_into(body, where, extra)),
                field=None if inside_free_json else (str(where[0]) if where else "*"),
                may_pass=inside_free_json,
            )
    for path, value in _leaves(body):
        top = str(path[0])
        field_ = _field_at(serializer, path)
        free_json = _free_json(field_)
        yield Probe(
            f"wrong type at {path}",
            json.dumps(_replace(body, path, _wrong_type(value))),
            field=None if free_json else top,
            may_pass=free_json,
        )
        yield Probe(f"100k characters at {path}", json.dumps(_replace(body, path, OVERLONG)), top)
        for text in UNSTORABLE:
            yield Probe(f"{text!r} at {path}", json.dumps(_replace(body, path, text)), top)
        if _is_free_text(field_):
            # Only text: stored verbatim (escaped on pages, which test_bad_input checks) or,
            # where the field is short, refused. All three at once keeps the run short.
            yield Probe(
                f"hostile text at {path}",
                json.dumps(_replace(body, path, " ".join(HOSTILE))),
                may_pass=True,
            )
        else:
            for text in HOSTILE:
                yield Probe(f"{text[:12]!r} at {path}", json.dumps(_replace(body, path, text)), top)
    for key in body:
        yield Probe(
            f"top-level wrong type for {key}",
            json.dumps(_replace(body, (key,), _wrong_type(body[key]))),
            field=key,
        )
        yield Probe(f"500 levels deep in {key}", json.dumps(_replace(body, (key,), DEEP)), key)


def _send(call: Call, method: str, raw: str | bytes) -> Any:
    send = getattr(call.client, method)
    return send("/api/v1/" + call.url, raw, content_type="application/json", headers=call.headers)


def _check(call: Call, method: str, probe: Probe) -> str | None:
    """Send one probe in a savepoint that is rolled back; say what went wrong, if anything."""
    with transaction.atomic():
        before = _snapshot()
        response = _send(call, method, probe.raw)
        after = _snapshot()
        transaction.set_rollback(True)
    status = response.status_code
    if status < 300 and probe.may_pass:
        return None
    if not 400 <= status < 500:
        return f"{probe.label}: HTTP {status} {response.content[:300]!r}"
    try:
        body = response.json()
    except ValueError:
        return f"{probe.label}: HTTP {status} without a JSON body"
    if not isinstance(body, dict) or "code" not in body:
        return f"{probe.label}: HTTP {status} body without a code: {body!r:.300}"
    if status == 400 and body["code"] == "invalid" and not body.get("fields"):
        return f"{probe.label}: 400 invalid without fields: {body!r:.300}"
    named = body.get("fields", {})
    if probe.field == "*" and (status != 400 or not named):
        return f"{probe.label}: expected 400 naming the field, got {status} {body!r:.300}"
    if probe.field not in (None, "*") and (status != 400 or probe.field not in named):
        return f"{probe.label}: expected 400 naming {probe.field!r}, got {status} {body!r:.300}"
    if after != before:
        changed = [t for t, a, b in zip(_snapshot_query()[1], after, before, strict=True) if a != b]
        return f"{probe.label}: HTTP {status} but the data changed: {changed}"
    return None


@pytest.mark.parametrize(("route", "method"), sorted(CASES), ids=lambda v: v)
def test_bad_input_gets_a_clear_4xx_and_changes_nothing(
    personas, person_in, client_for, route, method
):
    make, serializer_class = CASES[(route, method)]
    call = make(World(personas, person_in, client_for))
    serializer = serializer_class()
    # The body as given is accepted: so the user, headers and record are right, and every
    # refusal below comes from the input, not from somewhere else.
    with transaction.atomic():
        good = _send(call, method, json.dumps(call.body))
        transaction.set_rollback(True)
    assert good.status_code == call.ok, good.content
    problems = [
        p for p in (_check(call, method, probe) for probe in _probes(call, serializer)) if p
    ]
    assert not problems, "\n".join(problems[:40])
