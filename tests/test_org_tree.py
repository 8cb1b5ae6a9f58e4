"""The org tree: moving or renaming a unit carries its whole subtree, and scopes follow."""

from __future__ import annotations

import pytest

from kinfolk.core.errors import ValidationFailed
from kinfolk.core.models import OrgUnit


def _move(unit: OrgUnit, parent: OrgUnit) -> None:
    unit.parent = parent
    unit.save()


def _paths() -> dict[str, str]:
    return dict(OrgUnit.objects.values_list("code", "path"))


def test_moving_a_county_moves_every_office_under_it(org):
    _move(org["ADM"], org["C2"])
    paths = _paths()
    assert paths["ADM"] == "/DS/R1/C2/ADM/"
    assert paths["ADM-N"] == "/DS/R1/C2/ADM/ADM-N/"
    assert paths["ADM-S"] == "/DS/R1/C2/ADM/ADM-S/"
    assert paths["BAK-1"] == "/DS/R1/C1/BAK/BAK-1/"


def test_renaming_a_code_rewrites_the_descendants_paths(org):
    unit = org["C1"]
    unit.code = "C01"
    unit.save()
    paths = _paths()
    assert paths["C01"] == "/DS/R1/C01/"
    assert paths["ADM-N"] == "/DS/R1/C01/ADM/ADM-N/"
    assert paths["BAK-1"] == "/DS/R1/C01/BAK/BAK-1/"


def test_a_unit_cannot_move_under_its_own_descendant(org):
    unit = OrgUnit.objects.get(code="C1")
    unit.parent = OrgUnit.objects.get(code="ADM-N")
    with pytest.raises(ValidationFailed) as caught:
        unit.save()
    assert "parent" in caught.value.fields
    assert _paths()["C1"] == "/DS/R1/C1/"


def test_a_unit_cannot_be_its_own_parent(org):
    unit = OrgUnit.objects.get(code="ADM")
    unit.parent = unit
    with pytest.raises(ValidationFailed):
        unit.save()
    assert _paths()["ADM"] == "/DS/R1/C1/ADM/"


def test_after_a_move_scope_follows_the_subtree(org, make_user, person_in, client_for):
    old_side = client_for(make_user("olga", "investigator", "C1"))
    new_side = client_for(make_user("nina", "investigator", "C2"))
    child = person_in("ADM-N")
    url = f"/api/v1/persons/{child.pk}/"
    assert old_side.get(url).status_code == 200
    assert new_side.get(url).status_code == 404

    _move(OrgUnit.objects.get(code="ADM"), OrgUnit.objects.get(code="C2"))

    assert new_side.get(url).status_code == 200
    assert old_side.get(url).status_code == 404
