import json

import pytest
from django.core.management import CommandError, call_command

from linli.areas.models import Area
from linli.conftest import square


def write(tmp_path, features) -> str:
    path = tmp_path / "grids.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )
    return str(path)


def test_import_grids_imports_a_clean_file(tmp_path, street, capsys):
    path = write(
        tmp_path,
        [
            {
                "type": "Feature",
                "properties": {"code": "370502003002002", "name": "五一社区第2网格"},
                "geometry": square(118.62, 37.41),
            }
        ],
    )
    call_command("import_grids", path)
    assert Area.objects.get(code="370502003002002").parent == street["c2"]
    assert "imported: 1 new" in capsys.readouterr().out


def test_import_grids_fails_and_lists_the_problems(tmp_path, street, capsys):
    path = write(
        tmp_path,
        [
            {
                "type": "Feature",
                "properties": {"code": "12345", "name": "x"},
                "geometry": square(118.62, 37.41),
            }
        ],
    )
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_grids", path)
    assert "应为15位数字" in capsys.readouterr().out  # the operator's language
    assert not Area.objects.filter(code="12345").exists()


def test_import_grids_refuses_a_file_that_is_not_json(tmp_path, db):
    path = tmp_path / "x.geojson"
    path.write_text("nope")
    with pytest.raises(CommandError, match="not valid JSON"):
        call_command("import_grids", str(path))
