"""Kinfolk's reports as the federal-shaped tables the outcomes engine and federal files read."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kinfolk.federal.tables import read_tables
from kinfolk.intake.models import Allegation


def test_screened_in_reports_become_ncands_rows(
    approved, file_report, personas, client_for, tmp_path
):
    kept = approved()
    out = file_report()
    client_for(personas["hana"]).post(
        f"/api/v1/reports/{out['id']}/screen/",
        {"decision": "out", "narrative": "n", "reason": "historical"},
        content_type="application/json",
    )
    Allegation.objects.filter(report_id=kept["id"], maltreatment_type="1").update(finding="1")
    call_command("export_federal_tables", str(tmp_path / "t"), format="csv")
    tables = read_tables(tmp_path / "t")
    reports = tables["reports"].to_pylist()
    assert {r["report_id"] for r in reports} == {kept["number"]}
    levels = sorted((r["maltreatment_type"], r["maltreatment_level"]) for r in reports)
    assert levels == [(1, 1), (2, 99)]
    assert {r["office"] for r in reports} == {"ADM-N"} and {r["county"] for r in reports} == {"ADM"}
    assert tables["children"].num_rows == 2 and tables["episodes"].num_rows == 0


def test_the_export_refuses_a_non_empty_directory(db, tmp_path):
    (tmp_path / "x").write_text("x")
    with pytest.raises(CommandError, match="not empty"):
        call_command("export_federal_tables", str(tmp_path))


def test_the_outcomes_engine_reads_kinfolks_own_tables(approved, tmp_path):
    approved()
    call_command("export_federal_tables", str(tmp_path / "t"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kinfolk.cli",
            "outcomes",
            "compute",
            "--input",
            str(tmp_path / "t"),
            "--period-start",
            "2025-10-01",
            "--format",
            "json",
            "--output",
            str(tmp_path / "o.json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    indicators = json.loads((tmp_path / "o.json").read_text())["indicators"]
    assert set(indicators) >= {"recurrence", "maltreatment_in_care", "placement_stability"}


def test_a_late_evening_report_keeps_the_agencys_date(approved, tmp_path):
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from kinfolk.intake.models import Report

    kept = approved()
    evening = datetime(2026, 11, 20, 23, 30, tzinfo=ZoneInfo("America/Chicago"))
    Report.objects.filter(pk=kept["id"]).update(received_at=evening)
    call_command("export_federal_tables", str(tmp_path / "t"))
    dates = set(read_tables(tmp_path / "t")["reports"].column("report_date").to_pylist())
    assert dates == {date(2026, 11, 20)}
