"""A simulator run loads its resource homes, cases, episodes and placements with every invariant,
and exports back to the same federal tables."""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kinfolk.cases.models import Case, CaseMember
from kinfolk.core import audit
from kinfolk.core.models import AuditEvent
from kinfolk.federal.tables import read_tables
from kinfolk.intake.models import Report
from kinfolk.people.models import Person
from kinfolk.placements import rules
from kinfolk.placements.models import Episode, Placement, ResourceHome, ResourceHomeCaregiver


@pytest.fixture(scope="module")
def simulation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kinfolk.simulate.output import RunConfig, run

    out = tmp_path_factory.mktemp("sim") / "run"
    run(RunConfig(scale="county", years=2, seed=11, output=out, fmt="csv", children=3000))
    return out


def _load(directory: Path) -> str:
    out = StringIO()
    call_command("load_simulation", str(directory), stdout=out)
    return out.getvalue()


def test_every_episode_and_placement_is_loaded_with_its_invariants(db, simulation):
    printed = _load(simulation)
    source = read_tables(simulation)
    assert source["episodes"].num_rows > 10
    assert Episode.objects.count() == source["episodes"].num_rows
    assert Placement.objects.count() == source["placements"].num_rows
    assert "episodes" in printed and "placements" in printed and " s" in printed
    assert "not loaded" not in printed
    for child in Person.objects.filter(episodes__isnull=False).distinct():
        spans = list(child.episodes.values_list("removal_date", "discharge_date"))
        assert rules.episode_problems(spans) == []
    for episode in Episode.objects.all():
        spans = list(episode.placements.values_list("start_date", "end_date"))
        assert rules.placement_problems(episode.removal_date, episode.discharge_date, spans) == []
    for model in (Episode, Placement, Case, CaseMember, ResourceHome, ResourceHomeCaregiver):
        assert model.history.count() == model.objects.count(), model
        assert set(model.objects.values_list("version", flat=True)) <= {1}
    assert audit.verify().ok


def test_each_episode_has_a_foster_care_case_of_the_child_and_its_caregivers(db, simulation):
    _load(simulation)
    assert Case.objects.count() == Episode.objects.count()
    for episode in Episode.objects.select_related("case"):
        case = episode.case
        assert case is not None
        assert case.kind == "foster_care" and case.opened_on == episode.removal_date
        assert case.closed_on == episode.discharge_date
        assert (case.status == "closed") == (episode.discharge_date is not None)
        assert case.members.filter(role="child").get().person_id == episode.child_id
    assert CaseMember.objects.filter(role="caregiver").exists()
    assert Case.objects.filter(source_report__isnull=False).count() == Case.objects.count()
    assert Episode.objects.exclude(removal_reasons=[]).exists()


def test_resource_homes_come_from_the_providers_and_kin_homes_carry_their_relatives(db, simulation):
    _load(simulation)
    placements = read_tables(simulation)["placements"].to_pylist()
    codes = {p["provider_id"] for p in placements if p["provider_id"]}
    homes = {c for c in codes if not c.startswith("H")}
    assert set(ResourceHome.objects.values_list("code", flat=True)) == homes
    kin = ResourceHome.objects.filter(home_type="kinship")
    assert kin.exists() and set(kin.values_list("code", flat=True)) == {
        c for c in homes if c.startswith("K")
    }
    assert ResourceHomeCaregiver.objects.filter(home__home_type="kinship").exists()
    # A trial home visit is in the family's own home: no resource home.
    assert not Placement.objects.filter(setting="8", resource_home__isnull=False).exists()


def test_the_load_writes_audit_rows_marked_as_a_system_load(db, simulation):
    _load(simulation)
    kinds = {
        r.record_type: r.detail["count"]
        for r in AuditEvent.objects.filter(detail__system_load=True, action="create")
    }
    assert kinds["episode"] == Episode.objects.count()
    assert kinds["placement"] == Placement.objects.count()
    assert kinds["case"] == Case.objects.count()
    assert kinds["resource_home"] == ResourceHome.objects.count()


def _rewrite(source: Path, target: Path, table: str, change) -> Path:
    shutil.copytree(source, target)
    path = target / f"{table}.csv"
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    change(rows)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return target


def test_a_run_that_breaks_an_invariant_is_refused_and_nothing_is_loaded(db, simulation, tmp_path):
    def overlap(rows):
        # The second placement of an episode starts inside the first one.
        by_episode: dict[tuple[str, str], list[dict[str, str]]] = {}
        for row in rows:
            by_episode.setdefault((row["child_id"], row["removal_date"]), []).append(row)
        first, second = next(r for r in by_episode.values() if len(r) >= 2)[:2]
        second["start_date"] = first["end_date"]

    broken = _rewrite(simulation, tmp_path / "broken", "placements", overlap)
    with pytest.raises(CommandError, match="placements of episode .* cannot overlap"):
        _load(broken)
    assert Report.objects.count() == 0 and Person.objects.count() == 0
    assert Episode.objects.count() == 0 and ResourceHome.objects.count() == 0


def test_a_setting_that_does_not_fit_its_home_is_refused_with_its_row(db, simulation, tmp_path):
    def wrong(rows):
        row = next(r for r in rows if r["provider_id"].startswith("G") and r["temporary"] == "0")
        row["setting"] = "2"

    broken = _rewrite(simulation, tmp_path / "broken", "placements", wrong)
    with pytest.raises(CommandError, match=r"placements row \d+, column setting"):
        _load(broken)
    assert Episode.objects.count() == 0


def test_loading_twice_is_refused(db, simulation):
    _load(simulation)
    with pytest.raises(CommandError, match="already in the database"):
        _load(simulation)
    assert Episode.objects.count() == read_tables(simulation)["episodes"].num_rows


def test_the_loaded_county_exports_back_to_the_same_episodes_and_placements(
    db, simulation, tmp_path
):
    _load(simulation)
    call_command("export_federal_tables", str(tmp_path / "back"), format="csv")
    source, back = read_tables(simulation), read_tables(tmp_path / "back")
    for name in ("children", "episodes", "placements", "reports"):
        assert back[name].num_rows == source[name].num_rows, name
    episode_key = ("removal_date", "discharge_date", "discharge_reason", "office", "county")

    def episodes(table):
        return Counter(tuple(r[k] for k in episode_key) for r in table.to_pylist())

    assert episodes(back["episodes"]) == episodes(source["episodes"])
    key = ("removal_date", "start_date", "end_date", "setting", "temporary")

    def placements(table, family_home_as_none=False):
        out: Counter[tuple] = Counter()
        for r in table.to_pylist():
            provider = r["provider_id"]
            if family_home_as_none and provider and provider.startswith("H"):
                provider = None
            out[(*(r[k] for k in key), provider)] += 1
        return out

    assert placements(back["placements"]) == placements(source["placements"], True)

    # Each child keeps its own episodes: the same (removal, discharge) list per child.
    def per_child(table):
        spans: dict[str, list] = {}
        for r in table.to_pylist():
            spans.setdefault(r["child_id"], []).append((r["removal_date"], r["discharge_date"]))
        return sorted(sorted(v) for v in spans.values())

    assert per_child(back["episodes"]) == per_child(source["episodes"])
