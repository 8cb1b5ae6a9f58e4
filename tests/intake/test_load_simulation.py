"""The simulator's output loaded into the database keeps every invariant the services keep."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kinfolk.core import audit
from kinfolk.federal.tables import read_tables
from kinfolk.intake.models import Allegation, Finding, Report, ReportPerson
from kinfolk.people.models import Person


@pytest.fixture(scope="module")
def simulation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kinfolk.simulate.output import RunConfig, run

    out = tmp_path_factory.mktemp("sim") / "run"
    run(RunConfig(scale="county", years=1, seed=11, output=out, fmt="csv", children=3000))
    return out


def test_a_simulation_loads_with_every_invariant(db, simulation, tmp_path):
    call_command("load_simulation", str(simulation))
    source = read_tables(simulation)
    assert Report.objects.count() == len(set(source["reports"].column("report_id").to_pylist()))
    assert Allegation.objects.count() == source["reports"].num_rows
    # every report names its children; every child has search keys and a history row
    assert not Report.objects.filter(participants__isnull=True).exists()
    assert not Person.objects.filter(search_last="").exists()
    assert Person.history.count() == Person.objects.count()
    assert set(Allegation.objects.values_list("finding", flat=True)) <= set(Finding.values)
    assert ReportPerson.objects.filter(role="alleged_victim").count() >= Person.objects.count()
    assert audit.verify().ok


def test_the_loaded_county_exports_back_to_the_same_reports(db, simulation, tmp_path):
    call_command("load_simulation", str(simulation))
    call_command("export_federal_tables", str(tmp_path / "back"))
    source = read_tables(simulation)["reports"]
    back = read_tables(tmp_path / "back")["reports"]
    key = ("report_id", "maltreatment_type", "maltreatment_level", "report_date")

    def rows(table):
        return sorted(tuple(r[k] for k in key) for r in table.to_pylist())

    assert rows(back) == rows(source)


def test_loading_twice_is_refused(db, simulation):
    call_command("load_simulation", str(simulation))
    with pytest.raises(CommandError, match="already in the database"):
        call_command("load_simulation", str(simulation))


def test_a_directory_without_tables_is_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError):
        call_command("load_simulation", str(tmp_path))
    assert Report.objects.count() == 0
