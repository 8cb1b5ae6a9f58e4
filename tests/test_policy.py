"""Policy is data: the file is validated at start-up and a bad one is refused clearly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from kinfolk.core.policy import PolicyError, load_policy, parse_policy

GOOD = Path(settings.KINFOLK_POLICY_FILE).read_text()


def test_the_shipped_policy_is_valid():
    policy = load_policy(settings.KINFOLK_POLICY_FILE)
    assert "hotline_worker" in policy.roles
    assert policy.roles["hotline_worker"].intake


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("roles: [", "not valid YAML"),
        ("- a list", "top level must be a mapping"),
        (
            GOOD.replace("time_zone: America/Chicago", "time_zone: Mars/Olympus"),
            "unknown time zone",
        ),
        (
            GOOD.replace("permissions: [audit.view]", "permissions: [audit.view, fly]"),
            "unknown action(s) fly",
        ),
        (GOOD.replace("label: Auditor", "lable: Auditor"), "roles.auditor: missing key 'label'"),
        (
            GOOD.replace("    intake: true\n", "    intake: sometimes\n", 1),
            "intake: expected true or false",
        ),
        ("agency: {name: x, time_zone: UTC}\nactions: {}\n", "missing key 'roles'"),
    ],
)
def test_a_malformed_policy_is_refused_with_a_clear_message(text, message):
    with pytest.raises(PolicyError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_policy(text, source="state.yaml")


def test_the_application_refuses_to_start_with_a_bad_policy_file(tmp_path):
    bad = tmp_path / "policy.yaml"
    bad.write_text(GOOD.replace("permissions: [audit.view]", "permissions: [audit.peek]"))
    env = {**os.environ, "KINFOLK_POLICY_FILE": str(bad)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=settings.BASE_DIR,
    )
    assert result.returncode != 0
    assert "unknown action(s) audit.peek" in result.stderr
