"""Excel in and out (linli/people/excel/): real xlsx files built with openpyxl, on the
shared test street and the `register` fixture (zhang in g11, li in g21)."""

import io
from datetime import date, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from linli.core.models import AuditEvent
from linli.people import excel, services
from linli.people.models import AccessLog, Household, Resident, ResidentTag
from linli.people.tests.conftest import ID_A, ID_B, PHONE_A, PHONE_B
from linli.people.validation import id_number_make

G11 = "370502003001001"
G12 = "370502003001002"
G21 = "370502003002001"
ID_1 = id_number_make("370502", date(1940, 5, 6), 31)  # a man born 1940
ID_2 = id_number_make("370502", date(1942, 8, 9), 42)  # a woman born 1942
ID_3 = id_number_make("370503", date(2001, 1, 2), 51)
PHONE_1 = "13911112222"


def person(**values) -> dict:
    """One row of the template, as column key → cell value."""
    row = {
        "grid": G11,
        "address": "济南路12号2号楼",
        "unit": "1单元",
        "room": "101室",
        "tenure": "自有",
        "registration": "户籍",
        "name": "王大山",
        "id_number": ID_1,
        "relation": "户主",
    }
    row.update(values)
    return row


def workbook(rows: list[dict], *, base: bytes | None = None) -> bytes:
    """The template (or a bare two-header sheet) with `rows` filled in from row 3."""
    if base is not None:
        book = load_workbook(io.BytesIO(base))
        sheet = book.worksheets[0]
    else:
        book = Workbook()
        sheet = book.active
        sheet.append([c.zh for c in excel.COLUMNS])
        sheet.append([c.en for c in excel.COLUMNS])
    keys = [c.key for c in excel.COLUMNS]
    for offset, row in enumerate(rows):
        for position, key in enumerate(keys, start=1):
            if key in row:
                sheet.cell(row=3 + offset, column=position, value=row[key])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(actor, rows=None, *, data: bytes | None = None, **options) -> excel.ImportReport:
    return excel.residents_import(
        file=io.BytesIO(data if data is not None else workbook(rows)), actor=actor, **options
    )


def cells(content: bytes) -> list[str]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return [
        str(v) for sheet in book.worksheets for r in sheet.iter_rows(values_only=True) for v in r
    ]


def data_rows(content: bytes) -> list[tuple]:
    """The people in an export: the rows below the watermark and the two header rows."""
    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    return list(sheet.iter_rows(min_row=4, values_only=True))


def messages(report, column_key: str) -> list[tuple[int, str]]:
    header = excel.header_for(excel.COLUMN_BY_KEY[column_key])
    return [(p.row, p.message) for p in report.problems if p.column == header]


# --- the template and a round trip ---------------------------------------------------------


def test_the_template_lists_only_the_users_grids_and_visible_tags(register, grid_worker):
    content = excel.template_workbook(viewer=grid_worker)
    book = load_workbook(io.BytesIO(content))
    sheet, lists = book.worksheets
    assert [c.value for c in sheet[1]] == [c.zh for c in excel.COLUMNS]
    assert [c.value for c in sheet[2]] == [c.en for c in excel.COLUMNS]
    assert sheet["J1"].comment is not None  # the ID number's hint
    assert sheet.data_validations.dataValidation, "dropdowns"
    listed = {v for row in lists.iter_rows(values_only=True) for v in row if v}
    assert G11 in listed
    assert G21 not in listed and G12 not in listed
    assert "独居老人" in listed
    assert "残疾人" not in listed  # sensitive: grid workers may not set it


def test_a_filled_template_imports_and_the_people_are_stored_encrypted(register, grid_worker, tags):
    base = excel.template_workbook(viewer=grid_worker)
    data = workbook(
        [
            person(household_number="HH-1", phone=PHONE_1, tags="独居老人、党员"),
            person(
                household_number="HH-1",
                name="刘桂兰",
                id_number=ID_2,
                relation="配偶",
                gender="女",
                birth_date=datetime(1942, 8, 9),  # noqa: DTZ001 - as Excel stores a date
                moved_in_on="2001-05-01",
            ),
            person(room="102室", name="赵小明", id_number=ID_3, relation="户主", tenure="租住"),
        ],
        base=base,
    )
    report = run(grid_worker, data=data)
    assert report.problems == []
    assert report.committed
    assert (report.rows_total, report.rows_good) == (3, 3)
    assert (report.households_created, report.residents_created) == (2, 3)

    wang = Resident.objects.select_related("household").get(name="王大山")
    liu = Resident.objects.get(name="刘桂兰")
    assert wang.household == liu.household
    assert wang.household.number == "HH-1"
    assert wang.household.grid.code == G11
    assert (wang.birth_date, wang.gender) == (date(1940, 5, 6), "M")
    assert liu.relation == "spouse" and liu.moved_in_on == date(2001, 5, 1)
    assert wang.id_number_masked == f"370502********{ID_1[-4:]}"
    assert wang.phone_masked == "139****2222"
    zhao = Resident.objects.select_related("household").get(name="赵小明")
    assert zhao.household.number.startswith(G11 + "-")
    assert zhao.household.tenure == "rented"
    # Tags, and the next visit as the services would compute it.
    assert set(wang.tags.values_list("code", flat=True)) == {"elderly-alone", "party-member"}
    assert wang.next_visit_due == timezone.localdate() + timedelta(days=7)
    assert wang.next_visit_due == services.visit_due_compute(wang)
    assert liu.next_visit_due is None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Resident._meta.db_table}")  # noqa: S608
        dump = repr(cursor.fetchall())
    for needle in (ID_1, ID_2, ID_3, PHONE_1):
        assert needle not in dump
    event = AuditEvent.objects.get(action="people.residents_import")
    assert event.detail["residents_created"] == 3
    assert ID_1 not in repr(event.detail) and "王大山" not in repr(event.detail)


def test_an_export_imports_back_as_the_same_columns(register, admin_user):
    export = excel.residents_export(viewer=admin_user, full=True, reason="迁移到新系统")
    # Into an empty register (another installation): the same columns come back.
    Resident.objects.all().delete()
    Household.objects.all().delete()
    report = run(admin_user, data=export.content)
    assert report.problems == []
    assert report.residents_created == 2
    zhang = Resident.objects.get(name="张建国")
    assert zhang.household.room == "301室"
    assert zhang.phone_masked == "138****5678"


# --- bad rows ------------------------------------------------------------------------------


def bad_check_digit(number: str) -> str:
    return number[:-1] + ("0" if number[-1] != "0" else "1")


def test_one_bad_row_imports_nothing_in_all_or_nothing_mode(register, grid_worker):
    rows = [
        person(),
        person(room="102室", name="赵小明", id_number=bad_check_digit(ID_3)),
        person(room="103室", name="钱多多", id_number=ID_2),
    ]
    before = Resident.objects.count()
    report = run(grid_worker, rows)
    assert not report.committed
    assert Resident.objects.count() == before
    assert (report.rows_total, report.rows_good) == (3, 2)
    assert len(report.problems) == 1
    problem = report.problems[0]
    assert (problem.row, problem.column, problem.letter) == (4, "ID number", "J")
    assert "check digit" in problem.message


def test_good_rows_only_imports_the_rest(register, grid_worker):
    rows = [
        person(),
        person(room="102室", name="赵小明", id_number=bad_check_digit(ID_3)),
        person(room="103室", name="钱多多", id_number=ID_2),
    ]
    report = run(grid_worker, rows, mode=excel.MODE_GOOD)
    assert report.committed
    assert report.residents_created == 2
    assert set(Resident.objects.values_list("name", flat=True)) >= {"王大山", "钱多多"}
    assert not Resident.objects.filter(name="赵小明").exists()
    assert [p.row for p in report.problems] == [4]


def test_a_dry_run_writes_nothing(register, grid_worker):
    report = run(grid_worker, [person()], dry_run=True)
    assert report.ok and not report.committed
    assert not Resident.objects.filter(name="王大山").exists()


def test_the_same_id_number_twice_in_the_file_names_both_rows(register, grid_worker):
    rows = [person(), person(room="102室", name="王小山")]
    report = run(grid_worker, rows, mode=excel.MODE_GOOD)
    assert messages(report, "id_number") == [
        (3, "The same ID number is in rows 3, 4."),
        (4, "The same ID number is in rows 3, 4."),
    ]
    assert not report.committed
    assert not Resident.objects.filter(name__in=["王大山", "王小山"]).exists()


def test_an_id_number_already_in_the_register_is_refused_without_saying_where(
    register, grid_worker
):
    # li lives in g21, outside this grid worker's scope.
    report = run(grid_worker, [person(id_number=ID_B, name="李秀英")])
    assert messages(report, "id_number") == [(3, "This ID number is already in the register.")]
    assert Resident.objects.filter(name="李秀英").count() == 1


@pytest.mark.parametrize("code", [G21, G12, "370502003009001", "not-a-grid"])
def test_an_unknown_grid_or_another_workers_grid_is_refused_alike(register, grid_worker, code):
    report = run(grid_worker, [person(grid=code)])
    assert messages(report, "grid") == [(3, "Unknown grid code.")]
    assert not report.committed


def test_a_building_of_another_grid_is_refused(register, grid_worker):
    report = run(grid_worker, [person(building="370502003002001-B01")])
    assert messages(report, "building") == [
        (3, "Unknown building code, or the building is not in this grid.")
    ]
    report = run(grid_worker, [person(building="370502003001001-B01")])
    assert report.committed
    assert Resident.objects.get(name="王大山").household.building.code == "370502003001001-B01"


def test_a_household_number_adds_people_to_an_existing_household(register, grid_worker):
    home = register["home_a"]
    row = person(household_number=home.number, address="", tenure="", registration="")
    row |= {"name": "张小军", "relation": "子女", "id_number": ID_3}
    report = run(grid_worker, [row])
    assert report.problems == []
    assert (report.households_created, report.households_joined) == (0, 1)
    assert Resident.objects.get(name="张小军").household == home


def test_another_grids_household_number_is_refused(register, grid_worker):
    report = run(grid_worker, [person(household_number=register["home_b"].number)])
    assert [row for row, _message in messages(report, "household_number")] == [3]


def test_rows_of_one_household_must_agree(register, grid_worker):
    rows = [
        person(household_number="HH-2"),
        person(household_number="HH-2", name="王小山", id_number=ID_2, tenure="租住"),
    ]
    report = run(grid_worker, rows)
    assert messages(report, "tenure") == [(4, "Differs from row 3 for the same household.")]


def test_cells_of_the_wrong_kind_are_reported_by_row_and_column(register, grid_worker):
    rows = [
        person(birth_date=12345, id_number="", gender="男"),
        person(room="102室", name="赵小明", id_number=3.70502200101025e17),
        person(room="103室", name="钱多多", id_number=ID_2, moved_in_on="last year"),
        person(room="104室", name="孙悟空", id_number=ID_3, phone="12345"),
        person(room="105室", name="", id_number="", relation="邻居"),
        person(room="106室", name="周一", id_number=ID_3[:-1], tenure="借住"),
    ]
    report = run(grid_worker, rows)
    found = {(p.row, p.letter) for p in report.problems}
    assert (3, "L") in found  # a number where a date is expected
    assert (4, "J") in found  # an ID number Excel stored as a number
    assert (5, "P") in found  # not a date
    assert (6, "O") in found  # not a mobile number
    assert {(7, "I"), (7, "M")} <= found  # no name, unknown relation
    assert {(8, "J"), (8, "G")} <= found  # 17 characters, unknown tenure
    assert Resident.objects.count() == 2


def test_birth_date_and_gender_must_agree_with_the_id_number(register, grid_worker):
    report = run(grid_worker, [person(birth_date="1941-05-06", gender="女")])
    assert [row for row, _m in messages(report, "birth_date")] == [3]


def test_a_value_beyond_the_last_column_is_reported(register, grid_worker):
    data = workbook([person()])
    book = load_workbook(io.BytesIO(data))
    book.active.cell(row=3, column=len(excel.COLUMNS) + 2, value="extra")
    out = io.BytesIO()
    book.save(out)
    report = run(grid_worker, data=out.getvalue())
    assert [(p.row, p.letter) for p in report.problems] == [(3, "S")]
    assert not report.committed


def test_a_value_under_a_blank_header_between_columns_is_reported(register, grid_worker):
    book = Workbook()
    headers = [c.zh for c in excel.COLUMNS]
    book.active.append([*headers[:3], None, *headers[3:]])
    row = person()
    values = [row.get(c.key) for c in excel.COLUMNS]
    book.active.append([*values[:3], "stray", *values[3:]])
    out = io.BytesIO()
    book.save(out)
    report = run(grid_worker, data=out.getvalue())
    assert [(p.row, p.letter) for p in report.problems] == [(2, "D")]


def test_tags_unknown_sensitive_or_without_their_grade(register, grid_worker, admin_user):
    report = run(grid_worker, [person(tags="独居老人、外星人")])
    assert messages(report, "tags") == [(3, "Unknown tag “外星人”.")]
    report = run(grid_worker, [person(tags="残疾人(二级)")])
    assert messages(report, "tags") == [(3, "Only designated users may set a sensitive tag.")]
    report = run(admin_user, [person(tags="残疾人")])
    assert [row for row, _m in messages(report, "tags")] == [3]
    report = run(admin_user, [person(tags="残疾人（二级）, 低保")])
    assert report.committed
    link = ResidentTag.objects.get(resident__name="王大山", tag__code="disabled")
    assert link.grade == "二级"
    assert link.added_by == admin_user


# --- the file itself -----------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"


@pytest.mark.parametrize(
    "data",
    [PNG, "姓名,身份证号\n王大山,1\n".encode(), b"PK\x03\x04broken", b""],
    ids=["png", "csv", "broken zip", "empty"],
)
def test_a_file_that_is_not_xlsx_gets_a_clear_error(register, grid_worker, data):
    report = run(grid_worker, data=data)
    assert report.fatal and not report.committed
    assert [(p.row, p.message) for p in report.problems] == [
        (None, "This is not an Excel workbook (.xlsx). Download the template and fill it in.")
    ]


def test_an_old_xls_file_is_named_as_such(register, grid_worker):
    report = run(grid_worker, data=excel.OLE_MAGIC + b"\x00" * 512)
    assert ".xls" in report.problems[0].message


def test_a_file_over_the_size_limit_is_refused(register, grid_worker, monkeypatch):
    monkeypatch.setattr(excel.reader, "MAX_FILE_BYTES", 1000)
    report = run(grid_worker, [person()])
    assert report.fatal and "larger than" in report.problems[0].message


def test_too_many_rows_are_refused(register, grid_worker, monkeypatch):
    monkeypatch.setattr(excel.reader, "MAX_ROWS", 2)
    rows = [person(room=f"{i}室", id_number="") for i in range(3)]
    report = run(grid_worker, rows)
    assert report.fatal and "more than 2 rows" in report.problems[0].message


def test_missing_headers_and_unknown_headers_are_reported(register, grid_worker):
    book = Workbook()
    book.active.append(["网格编码", "地址", "姓名", "身份证号"])
    out = io.BytesIO()
    book.save(out)
    report = run(grid_worker, data=out.getvalue())
    assert report.fatal and "Required columns are missing" in report.problems[0].message
    book = Workbook()
    book.active.append([c.zh for c in excel.COLUMNS] + ["备注"])
    out = io.BytesIO()
    book.save(out)
    report = run(grid_worker, data=out.getvalue())
    assert (report.problems[0].row, report.problems[0].column) == (1, "R")


# --- the export ----------------------------------------------------------------------------


def test_a_grid_workers_export_holds_only_their_grid_masked_and_is_logged(
    client, register, grid_worker
):
    client.force_login(grid_worker)
    response = client.post(reverse("people:export"), {"area": "", "tag": ""})
    assert response.status_code == 200
    assert response["Content-Type"] == excel.XLSX_TYPE
    assert response["Cache-Control"] == "no-store"
    content = b"".join(response.streaming_content) if response.streaming else response.content
    found = cells(content)
    assert "张建国" in found and "李秀英" not in found
    assert register["zhang"].id_number_masked in found
    joined = "\n".join(found)
    for needle in (ID_A, ID_B, PHONE_A, PHONE_B, "301室", "1950-03-01"):
        assert needle not in joined
    assert found[0].startswith("Exported by worker · ")
    assert load_workbook(io.BytesIO(content)).properties.creator == "worker"
    log = AccessLog.objects.get()
    assert (log.viewer, log.field, log.rows) == (grid_worker, "export", 1)
    assert log.detail["filters"] == {"area": "", "tag": "", "full": False}


def test_an_export_shows_sensitive_tags_only_to_those_who_may_see_them(
    register, grid_worker, admin_user, tags
):
    services.resident_tag_add(
        resident=register["zhang"], tag=tags["disabled"], actor=admin_user, grade="二级"
    )
    services.resident_tag_add(
        resident=register["zhang"], tag=tags["party-member"], actor=admin_user
    )
    worker_cells = cells(excel.residents_export(viewer=grid_worker).content)
    assert "党员" in worker_cells and not any("残疾人" in c for c in worker_cells)
    admin_cells = cells(excel.residents_export(viewer=admin_user).content)
    assert any("残疾人(二级)" in c for c in admin_cells)


def test_an_export_can_be_filtered_by_area_and_tag_within_the_scope(
    register, dispatcher, grid_worker, street
):
    found = cells(excel.residents_export(viewer=dispatcher, area=street["c2"]).content)
    assert "李秀英" in found and "张建国" not in found
    assert data_rows(excel.residents_export(viewer=dispatcher, tag="elderly-alone").content) == []
    assert len(data_rows(excel.residents_export(viewer=dispatcher).content)) == 2
    with pytest.raises(services.DomainError):
        excel.residents_export(viewer=grid_worker, area=street["c2"])
    assert AccessLog.objects.count() == 3


def test_a_full_export_is_refused_to_a_grid_worker(client, register, grid_worker):
    client.force_login(grid_worker)
    response = client.post(reverse("people:export"), {"full": "on", "reason": "检查"})
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    assert not AccessLog.objects.exists()


def test_a_full_export_by_an_administrator_needs_a_reason_and_is_logged(
    client, register, admin_user
):
    client.force_login(admin_user)
    response = client.post(reverse("people:export"), {"full": "on", "reason": ""})
    assert response.status_code == 400
    assert not AccessLog.objects.exists()
    response = client.post(reverse("people:export"), {"full": "on", "reason": "年度核对"})
    assert response.status_code == 200
    found = cells(response.content)
    assert ID_A in found and ID_B in found and PHONE_A in found and "301室" in found
    log = AccessLog.objects.get()
    assert (log.field, log.rows, log.reason) == ("export_full", 2, "年度核对")


# --- pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["people:import", "people:export", "people:template"])
@pytest.mark.parametrize("persona", ["resident", "handler", "leader"])
def test_the_pages_refuse_roles_outside_the_register(client, personas, name, persona):
    client.force_login(personas[persona])
    assert client.get(reverse(name)).status_code == 403


def test_the_template_downloads_as_xlsx(client, register, grid_worker):
    client.force_login(grid_worker)
    response = client.get(reverse("people:template"))
    assert response.status_code == 200
    assert response["Content-Type"] == excel.XLSX_TYPE
    assert "attachment" in response["Content-Disposition"]
    load_workbook(io.BytesIO(response.content))


def upload(data: bytes, name: str = "residents.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=excel.XLSX_TYPE)


def test_the_import_page_checks_then_imports(client, register, grid_worker):
    client.force_login(grid_worker)
    url = reverse("people:import")
    data = workbook([person()])
    response = client.post(url, {"file": upload(data), "mode": "all", "check": "1"})
    assert response.status_code == 200
    assert not Resident.objects.filter(name="王大山").exists()
    response = client.post(url, {"file": upload(data), "mode": "all", "import": "1"})
    assert response.status_code == 200
    assert Resident.objects.filter(name="王大山").exists()
    assert b"Imported 1 people" in response.content


def test_the_import_page_lists_the_problems_and_answers_400(client, register, grid_worker):
    client.force_login(grid_worker)
    data = workbook([person(id_number=bad_check_digit(ID_1))])
    response = client.post(
        reverse("people:import"), {"file": upload(data), "mode": "all", "import": "1"}
    )
    assert response.status_code == 400
    assert "check digit" in response.content.decode()
    assert not Resident.objects.filter(name="王大山").exists()
    response = client.post(
        reverse("people:import"), {"file": upload(PNG, "photo.xlsx"), "mode": "all", "import": "1"}
    )
    assert response.status_code == 400
    assert "not an Excel workbook" in response.content.decode()


def test_the_import_page_shows_the_first_problems_and_the_total(
    client, register, grid_worker, monkeypatch
):
    from linli.people.views import excel as views

    monkeypatch.setattr(views, "PROBLEMS_SHOWN", 1)
    client.force_login(grid_worker)
    rows = [person(grid="x"), person(grid="y", name="王小山", id_number=ID_2)]
    response = client.post(
        reverse("people:import"), {"file": upload(workbook(rows)), "mode": "all", "check": "1"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "2 problems." in html and "The first 1 are shown" in html
    assert html.count("Unknown grid code.") == 1


# --- commands ------------------------------------------------------------------------------


def test_the_import_command_acts_as_the_user(register, grid_worker, tmp_path):
    path = tmp_path / "people.xlsx"
    path.write_bytes(workbook([person(), person(room="102室", name="赵", id_number=ID_B)]))
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_residents", str(path), "--user", "worker", "--no-progress", stdout=out)
    assert "This ID number is already in the register." in out.getvalue()
    assert not Resident.objects.filter(name="王大山").exists()
    call_command(
        "import_residents",
        str(path),
        "--user",
        "worker",
        "--good-rows-only",
        "--no-progress",
        stdout=out,
    )
    assert Resident.objects.filter(name="王大山").exists()
    path.write_bytes(workbook([person(grid=G21)]))
    with pytest.raises(CommandError):
        call_command("import_residents", str(path), "--user", "worker", "--dry-run", stdout=out)


def test_the_export_command_acts_as_the_user(register, grid_worker, admin_user, tmp_path):
    path = tmp_path / "out.xlsx"
    call_command("export_residents", str(path), "--user", "worker", stdout=io.StringIO())
    found = cells(path.read_bytes())
    assert "张建国" in found and "李秀英" not in found and ID_A not in found
    with pytest.raises(CommandError):
        call_command(
            "export_residents", str(path), "--user", "worker", "--full", "--reason", "核对"
        )
    call_command(
        "export_residents",
        str(path),
        "--user",
        "admin",
        "--full",
        "--reason",
        "核对",
        stdout=io.StringIO(),
    )
    assert ID_B in cells(path.read_bytes())
    assert list(AccessLog.objects.values_list("field", flat=True).order_by("id")) == [
        "export",
        "export_full",
    ]


# --- formula injection -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ['=HYPERLINK("http://x.example","看")', "+1+2", "-3+4", "@SUM(1)", "<script>x</script>"],
)
def test_text_that_looks_like_a_formula_is_exported_as_text_and_imports_back_as_typed(
    register, admin_user, typed
):
    Resident.objects.filter(pk=register["zhang"].pk).update(name=typed)
    Household.objects.filter(pk=register["zhang"].household_id).update(address=typed)
    export = excel.residents_export(viewer=admin_user, full=True, reason="迁移到新系统")
    sheet = load_workbook(io.BytesIO(export.content)).worksheets[0]
    cells_typed = [c for row in sheet.iter_rows() for c in row if c.value == typed]
    assert len(cells_typed) == 2  # the address and the name
    for cell in cells_typed:
        assert cell.data_type == "s"  # text, never a formula ("f")
        assert cell.quotePrefix is (typed[0] in "=+-@")
    Resident.objects.all().delete()
    Household.objects.all().delete()
    report = run(admin_user, data=export.content)
    assert report.problems == []
    assert Resident.objects.filter(name=typed, household__address=typed).exists()
