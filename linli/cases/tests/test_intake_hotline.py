"""The 12345 orders import (linli/cases/intake/hotline.py): real CSV and xlsx files on the
shared test street, the shipped catalogue, the page and the command."""

import csv
import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from linli.cases.intake import hotline
from linli.cases.models import CONTACT_PHONE_CONTEXT, Case, CaseEvent
from linli.core.crypto import decrypt
from linli.core.models import AuditEvent
from linli.core.testing import jpeg_bytes

IN_G11 = (118.605, 37.405)
IN_G12 = (118.615, 37.405)
IN_G21 = (118.625, 37.405)  # community c2
OUTSIDE_STREET = (118.70, 37.405)
ZH = [
    "工单编号",
    "来电时间",
    "来电人",
    "联系电话",
    "事项编码",
    "问题描述",
    "地址",
    "经度",
    "纬度",
    "紧急程度",
]
KEYS = [
    "order_no",
    "reported_at",
    "contact_name",
    "contact_phone",
    "matter_code",
    "description",
    "address",
    "lon",
    "lat",
    "urgency",
]


@pytest.fixture(autouse=True)
def english_pages(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def called(hours_ago: float = 2) -> str:
    return (timezone.localtime() - timedelta(hours=hours_ago)).strftime("%Y-%m-%d %H:%M")


def order(n: int, **values) -> dict:
    row = {
        "order_no": f"GD2026{n:06d}",
        "reported_at": called(),
        "contact_name": "王先生",
        "contact_phone": "13800138000",
        "matter_code": "11008",
        "description": f"{n}号楼楼道堆放杂物",
        "address": f"济南路{n}号",
        "lon": IN_G11[0],
        "lat": IN_G11[1],
        "urgency": "一般",
    }
    row.update(values)
    return row


def csv_bytes(rows: list[dict], *, encoding: str = "utf-8", headers=ZH, keys=KEYS) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if row.get(k) is None else row.get(k) for k in keys])
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[dict], *, headers=ZH, keys=KEYS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(k) for k in keys])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(data: bytes, actor=None, **options) -> hotline.HotlineReport:
    return hotline.hotline_import(file=io.BytesIO(data), actor=actor, **options)


def problems(report) -> set[tuple]:
    return {(p.row, p.column, p.message) for p in report.problems}


def messages_at(report, row: int) -> list[str]:
    return [f"{p.column}: {p.message}" for p in report.problems if p.row == row]


# --- good files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda rows: csv_bytes(rows), id="csv-utf8"),
        pytest.param(lambda rows: csv_bytes(rows, encoding="utf-8-sig"), id="csv-utf8-bom"),
        pytest.param(lambda rows: csv_bytes(rows, encoding="gb18030"), id="csv-gb18030"),
        pytest.param(lambda rows: xlsx_bytes(rows), id="xlsx"),
    ],
)
def test_a_good_file_files_every_order_as_a_hotline_case(catalogue, street, dispatcher, make):
    rows = [
        order(1),
        order(2, lon=IN_G12[0], lat=IN_G12[1], urgency="紧急", contact_phone="0546-8221234"),
        order(3, urgency="critical", contact_name="", contact_phone=""),
    ]
    data = make(rows)

    checked = run(data, dispatcher)
    assert checked.ok and checked.rows_total == 3 and checked.rows_good == 3
    assert not Case.objects.exists()

    report = run(data, dispatcher, dry_run=False)
    assert report.committed and report.cases_created == 3, report.problems
    cases = {c.external_ref: c for c in Case.objects.select_related("grid", "matter")}
    assert set(cases) == {"GD2026000001", "GD2026000002", "GD2026000003"}
    assert set(report.numbers) == {c.number for c in cases.values()}
    first, second, third = (cases[f"GD202600000{n}"] for n in (1, 2, 3))
    assert {c.source for c in cases.values()} == {"hotline"}
    assert {c.reporter_id for c in cases.values()} == {None}
    assert first.grid == street["g11"] and second.grid == street["g12"]
    assert first.matter.code == "11008" and first.status == "reported"
    assert (first.urgency, second.urgency, third.urgency) == ("normal", "urgent", "critical")
    assert first.description == "1号楼楼道堆放杂物" and first.address == "济南路1号"
    assert first.contact_name == "王先生"
    # Phones are sealed; lists show only the masked form.
    assert first.contact_phone_masked == "138****8000"
    assert "13800138000" not in first.contact_phone_encrypted
    assert decrypt(first.contact_phone_encrypted, context=CONTACT_PHONE_CONTEXT) == (
        "+8613800138000"
    )
    assert first.contact_phone_index
    assert decrypt(second.contact_phone_encrypted, context=CONTACT_PHONE_CONTEXT) == (
        "+865468221234"
    )
    assert third.contact_phone_encrypted == "" and third.contact_phone_masked == ""
    # The call's time is the case's reported time, Beijing time in the file.
    assert (
        timezone.localtime(first.reported_at).strftime("%Y-%m-%d %H:%M") == rows[0]["reported_at"]
    )
    assert CaseEvent.objects.filter(case=first, action="report", actor=None).count() == 1
    audit = AuditEvent.objects.get(action="cases.hotline_import")
    assert audit.success and audit.detail["cases_created"] == 3
    assert "13800138000" not in str(audit.detail) and "王先生" not in str(audit.detail)


def test_english_headers_a_matter_by_name_and_extra_columns_are_understood(catalogue, dispatcher):
    headers = ["order_no", "reported_at", "matter", "description", "lon", "lat", "工单状态"]
    keys = ["order_no", "reported_at", "matter_code", "description", "lon", "lat", "status"]
    rows = [
        order(1, matter_code="楼道堆物", status="已办结"),
        order(2, matter_code="11008", reported_at="2026/5/1 8:05:00"),
        order(3, reported_at="2026年5月1日 08:05"),
        order(4, reported_at="2026-05-01T08:05:00+08:00"),
    ]
    report = run(csv_bytes(rows, headers=headers, keys=keys), dispatcher, dry_run=False)
    assert report.committed and report.cases_created == 4, report.problems
    assert report.ignored == ["工单状态"]
    assert set(Case.objects.values_list("matter__code", flat=True)) == {"11008"}
    times = {
        timezone.localtime(c.reported_at).strftime("%Y-%m-%d %H:%M")
        for c in Case.objects.exclude(external_ref="GD2026000001")
    }
    assert times == {"2026-05-01 08:05"}


def test_the_matter_name_column_is_matched_exactly_and_must_agree_with_the_code(
    catalogue, dispatcher
):
    headers = ["工单编号", "来电时间", "事项编码", "事项名称", "问题描述", "经度", "纬度"]
    keys = ["order_no", "reported_at", "matter_code", "matter_name", "description", "lon", "lat"]
    rows = [
        order(1, matter_code="", matter_name="楼道堆物"),
        order(2, matter_code="", matter_name="楼道"),
        order(3, matter_code="11008", matter_name="暴露垃圾"),
    ]
    report = run(csv_bytes(rows, headers=headers, keys=keys), dispatcher)
    assert report.rows_good == 1
    assert messages_at(report, 3) == [
        "matter_name: Unknown matter “楼道”: use a code or the exact name from the catalogue."
    ]
    assert messages_at(report, 4) == ["matter_name: The code 11008 is “楼道堆物”, not this name."]


# --- bad rows -------------------------------------------------------------------------------


def test_a_dry_run_names_every_bad_row_and_column_and_writes_nothing(
    catalogue, street, community_worker
):
    run(csv_bytes([order(99)]), None, dry_run=False)  # an order taken in before
    future = (timezone.localtime() + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    rows = [
        order(1),  # row 2: good
        order(2, matter_code="99999"),
        order(3, contact_phone="12345"),
        order(4, lon=OUTSIDE_STREET[0], lat=OUTSIDE_STREET[1]),
        order(99),
        order(6, order_no="GD-TWICE"),
        order(7, order_no="GD-TWICE"),
        order(8, description=""),
        order(9, reported_at="昨天下午"),
        order(10, reported_at=future),
        order(11, lon=IN_G21[0], lat=IN_G21[1]),  # community c2: not the worker's area
        order(12, lon=IN_G11[1], lat=IN_G11[0]),  # swapped
        order(13, urgency="很急"),
        order(14, matter_code="11005"),  # good: a required question an order need not answer
        order(15, order_no=""),
        order(16, lon="东经118度"),
        order(17, reported_at="2026-05-01"),
    ]
    before = Case.objects.count()

    report = run(csv_bytes(rows), community_worker)

    assert not report.committed and report.dry_run
    assert (report.rows_total, report.rows_good) == (17, 2)
    assert messages_at(report, 2) == []
    assert messages_at(report, 15) == []
    expected = {
        3: [
            "matter_code: Unknown matter “99999”: use a code or the exact name from the catalogue."
        ],
        4: ["contact_phone: Not a valid mainland phone number."],
        5: ["lon: This point is outside every grid of the street."],
        6: ["order_no: This order has already been taken in."],
        7: ["order_no: The same order number is in rows 7, 8."],
        8: ["order_no: The same order number is in rows 7, 8."],
        9: ["description: This cell must not be empty."],
        10: ["reported_at: Not a date and time; write it as 2026-06-01 09:30."],
        11: ["reported_at: This time is in the future."],
        12: ["lon: This point is outside your area."],
        13: ["lon: This point is not in China; are longitude and latitude swapped?"],
        14: ["urgency: Write 一般, 紧急 or 特急."],
        16: ["order_no: This cell must not be empty."],
        17: ["lon: Not a number."],
        18: ["reported_at: Give the time of day too, e.g. 2026-06-01 09:30."],
    }
    for row, messages in expected.items():
        assert messages_at(report, row) == messages, row
    # Each problem carries the column's letter as a spreadsheet shows it.
    letters = {p.column: p.letter for p in report.problems}
    assert letters["order_no"] == "A" and letters["lon"] == "H" and letters["urgency"] == "J"
    assert Case.objects.count() == before
    assert not AuditEvent.objects.filter(action="cases.hotline_import", actor=community_worker)


def test_all_or_nothing_writes_nothing_when_any_row_is_bad(catalogue, dispatcher):
    rows = [order(1), order(2), order(3, matter_code="99999")]
    report = run(csv_bytes(rows), dispatcher, dry_run=False, mode=hotline.MODE_ALL)
    assert not report.committed and report.cases_created == 0
    assert report.rows_good == 2 and len(report.problems) == 1
    assert not Case.objects.exists()
    audit = AuditEvent.objects.get(action="cases.hotline_import")
    assert not audit.success and audit.detail["problems"] == 1


def test_good_rows_only_writes_exactly_the_good_rows(catalogue, dispatcher):
    rows = [order(1), order(2, description=""), order(3), order(4, contact_phone="1")]
    report = run(csv_bytes(rows), dispatcher, dry_run=False, mode=hotline.MODE_GOOD)
    assert report.committed and report.cases_created == 2 and report.rows_bad == 2
    assert set(Case.objects.values_list("external_ref", flat=True)) == {
        "GD2026000001",
        "GD2026000003",
    }


def test_importing_the_same_file_again_adds_nothing(catalogue, dispatcher):
    data = csv_bytes([order(1), order(2), order(3)])
    assert run(data, dispatcher, dry_run=False).cases_created == 3

    again = run(data, dispatcher, dry_run=False, mode=hotline.MODE_GOOD)

    assert not again.committed and again.rows_good == 0
    assert [p.message for p in again.problems] == ["This order has already been taken in."] * 3
    assert Case.objects.count() == 3


def test_gcj02_coordinates_are_converted_before_the_grid_is_found(catalogue, street, dispatcher):
    # A map app's GCJ-02 position of a point in g11 lies some 500 m east, in g12.
    from prcoords import Coords, wgs_gcj

    shifted = wgs_gcj(Coords(IN_G11[1], IN_G11[0]))
    as_is = csv_bytes([order(1, lon=shifted.lon, lat=shifted.lat)])
    converted = csv_bytes([order(2, lon=shifted.lon, lat=shifted.lat)])
    assert run(as_is, dispatcher, dry_run=False).committed
    assert run(converted, dispatcher, dry_run=False, crs="gcj02").committed
    assert Case.objects.get(external_ref="GD2026000001").grid == street["g12"]
    case = Case.objects.get(external_ref="GD2026000002")
    assert case.grid == street["g11"] and abs(case.lon - IN_G11[0]) < 1e-5


# --- bad files ------------------------------------------------------------------------------


def only_problem(report) -> str:
    assert report.fatal and not report.committed and len(report.problems) == 1
    return report.problems[0].message


def test_a_file_that_is_neither_csv_nor_xlsx_is_refused_by_its_content(catalogue, dispatcher):
    not_readable = (
        "This is neither a CSV file nor an Excel workbook (.xlsx). Export the orders as CSV or "
        ".xlsx, or fill in the template."
    )
    assert only_problem(run(jpeg_bytes(), dispatcher)) == not_readable
    assert only_problem(run(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", dispatcher)) == not_readable
    old_xls = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    assert ".xls" in only_problem(run(old_xls, dispatcher))
    assert "Excel workbook" in only_problem(run(b"PK\x03\x04 not a zip", dispatcher))
    assert "No header row" in only_problem(run("<html>订单</html>".encode(), dispatcher))
    assert only_problem(run(b"", dispatcher)) == "The file is empty."
    assert not Case.objects.exists()


def test_too_big_a_file_and_too_many_rows_are_refused(catalogue, dispatcher, monkeypatch):
    data = csv_bytes([order(n) for n in range(1, 5)])
    monkeypatch.setattr(hotline, "MAX_ROWS", 3)
    assert only_problem(run(data, dispatcher)) == (
        "The file has more than 3 rows; split it into smaller files."
    )
    monkeypatch.setattr(hotline, "MAX_ROWS", 5_000)
    monkeypatch.setattr(hotline, "MAX_FILE_BYTES", 2**20)
    big = data + b"," * 2**20
    assert only_problem(run(big, dispatcher)) == (
        "The file is larger than 1 MB; split it into smaller files."
    )


def test_the_real_limits_are_5000_rows_and_5_mb(catalogue, dispatcher):
    assert hotline.MAX_ROWS == 5_000 and hotline.MAX_FILE_BYTES == 5 * 2**20
    rows = [order(n) for n in range(1, 5_002)]
    report = run(csv_bytes(rows), dispatcher)
    assert only_problem(report) == "The file has more than 5,000 rows; split it into smaller files."
    big = b"x" * (5 * 2**20 + 1)
    assert "larger than 5 MB" in only_problem(run(big, dispatcher))


def test_missing_columns_and_a_column_twice_are_refused(catalogue, dispatcher):
    data = csv_bytes([order(1)], headers=ZH[:4] + ["问题描述"], keys=KEYS[:4] + ["description"])
    message = only_problem(run(data, dispatcher))
    assert message.startswith("Required columns are missing:")
    assert "lon" in message and "lat" in message and "matter_code/matter_name" in message
    twice = csv_bytes([order(1)], headers=[*ZH, "经度"], keys=[*KEYS, "lon"])
    assert only_problem(run(twice, dispatcher)) == "The column “经度” appears twice."


# --- the template ---------------------------------------------------------------------------


def test_the_template_has_the_headers_an_example_and_an_urgency_dropdown(catalogue, dispatcher):
    content = hotline.hotline_template()
    book = load_workbook(io.BytesIO(content))
    orders, example, matters = book.worksheets
    assert [c.value for c in orders[1]] == [c.zh for c in hotline.COLUMNS]
    assert [c.value for c in orders[2]] == [c.en for c in hotline.COLUMNS]
    assert orders.max_row == 2, "no example row where orders are typed"
    lists = [v.formula1 for v in orders.data_validations.dataValidation]
    assert '"一般,紧急,特急"' in lists
    assert any("事项目录" in formula for formula in lists)
    codes = {row[0] for row in matters.iter_rows(min_row=3, values_only=True)}
    assert {"11008", "11016"} <= codes
    # The example, copied onto the orders sheet, checks clean.
    for column in range(1, len(hotline.COLUMNS) + 1):
        orders.cell(row=3, column=column, value=example.cell(row=3, column=column).value)
    orders.cell(row=3, column=2, value=called())
    out = io.BytesIO()
    book.save(out)
    report = run(out.getvalue(), dispatcher)
    assert report.ok and report.rows_total == 1, report.problems


# --- the command ----------------------------------------------------------------------------


def test_the_command_prints_the_report_and_writes_only_with_commit(catalogue, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(csv_bytes([order(1), order(2, matter_code="99999"), order(3)]))
    out = io.StringIO()
    with pytest.raises(CommandError, match="3 rows, 2 good, 1 problems; dry run"):
        call_command("import_hotline", str(path), stdout=out)
    assert "row 3\tE matter_code\tUnknown matter “99999”" in out.getvalue()
    with pytest.raises(CommandError, match="nothing written"):
        call_command("import_hotline", str(path), "--commit", stdout=io.StringIO())
    assert not Case.objects.exists()

    out = io.StringIO()
    call_command(
        "import_hotline", str(path), "--commit", "--good-rows-only", "--no-progress", stdout=out
    )
    assert "imported 2 cases" in out.getvalue()
    assert Case.objects.filter(source="hotline").count() == 2


def test_the_command_acts_in_a_users_area(catalogue, community_worker, tmp_path):
    path = tmp_path / "orders.xlsx"
    path.write_bytes(xlsx_bytes([order(1, lon=IN_G21[0], lat=IN_G21[1])]))
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_hotline", str(path), "--user", "community", stdout=out)
    assert "This point is outside your area." in out.getvalue()
    with pytest.raises(CommandError, match="No user"):
        call_command("import_hotline", str(path), "--user", "nobody")


# --- the page -------------------------------------------------------------------------------


def upload(data: bytes, name: str = "orders.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def test_the_page_checks_then_imports_for_a_dispatcher(client, catalogue, dispatcher):
    client.force_login(dispatcher)
    page = client.get(reverse("cases:import"))
    assert page.status_code == 200 and "Import 12345 orders" in page.content.decode()
    data = csv_bytes([order(1), order(2)])

    checked = client.post(
        reverse("cases:import"), {"file": upload(data), "mode": "all", "crs": "wgs84"}
    )
    assert checked.status_code == 200
    assert "2 rows checked; no problems. Nothing was written yet." in checked.content.decode()
    assert not Case.objects.exists()

    done = client.post(
        reverse("cases:import"),
        {"file": upload(data), "mode": "all", "crs": "wgs84", "import": "1"},
    )
    assert done.status_code == 200
    assert "Imported 2 orders as cases." in done.content.decode()
    assert Case.objects.filter(source="hotline").count() == 2


def test_the_page_lists_bad_rows_and_refuses_bad_input(client, catalogue, community_worker):
    client.force_login(community_worker)
    data = csv_bytes([order(1), order(2, lon=IN_G21[0], lat=IN_G21[1])])
    response = client.post(
        reverse("cases:import"),
        {"file": upload(data), "mode": "all", "crs": "wgs84", "import": "1"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "2 rows checked: 1 good, 1 with problems. Nothing was written." in html
    assert "This point is outside your area." in html
    assert not Case.objects.exists()

    response = client.post(
        reverse("cases:import"), {"file": upload(data), "mode": "some", "crs": "utm"}
    )
    assert response.status_code == 400 and not Case.objects.exists()
    assert response.context["form"].errors.keys() == {"mode", "crs"}
    response = client.post(reverse("cases:import"), {"mode": "all", "crs": "wgs84"})
    assert response.status_code == 400 and "file" in response.context["form"].errors


@pytest.mark.parametrize("persona", ["resident", "handler", "grid_worker", "leader"])
def test_the_page_and_the_template_are_refused_outside_the_centre(client, personas, persona):
    client.force_login(personas[persona])
    assert client.get(reverse("cases:import")).status_code == 403
    assert client.get(reverse("cases:import_template")).status_code == 403
    response = client.post(
        reverse("cases:import"),
        {"file": upload(csv_bytes([order(1)])), "mode": "all", "crs": "wgs84", "import": "1"},
    )
    assert response.status_code == 403 and not Case.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, street):
    response = client.get(reverse("cases:import_template"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_template_downloads_for_the_centre(client, catalogue, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("cases:import_template"))
    assert response.status_code == 200
    assert response["Content-Type"] == hotline_xlsx_type()
    assert "12345-orders-template.xlsx" in response["Content-Disposition"]
    assert load_workbook(io.BytesIO(response.content)).sheetnames == ["工单", "示例", "事项目录"]


def hotline_xlsx_type() -> str:
    return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
