import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

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
    assert "已导入：新增 1 个" in capsys.readouterr().out  # the operator's language


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
    with pytest.raises(CommandError, match="未导入任何数据"):
        call_command("import_grids", path)
    assert "应为15位数字" in capsys.readouterr().out  # the operator's language
    assert not Area.objects.filter(code="12345").exists()


def test_import_grids_refuses_a_file_that_is_not_json(tmp_path, db):
    path = tmp_path / "x.geojson"
    path.write_text("nope")
    with translation.override("en"), pytest.raises(CommandError, match="not valid JSON"):
        call_command("import_grids", str(path))


def test_import_grids_dry_run_checks_and_writes_nothing(tmp_path, street, capsys):
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
    with translation.override("en"):
        call_command("import_grids", path, "--dry-run", "--gap-tolerance", "50")
    assert "1 features checked; no problems." in capsys.readouterr().out
    assert not Area.objects.filter(code="370502003002002").exists()
