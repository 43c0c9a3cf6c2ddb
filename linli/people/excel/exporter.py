"""The export: the people of the viewer's scope, masked unless the user may and says why."""

import io
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from linli.accounts.scopes import area_q
from linli.areas.models import Area
from linli.core.crypto import decrypt
from linli.core.errors import DomainError
from linli.core.spreadsheets import safe_row
from linli.people import permissions, selectors, services
from linli.people.excel.columns import COLUMNS, GENDER_ZH, REGISTRATION_ZH, RELATION_ZH, TENURE_ZH
from linli.people.models import ID_NUMBER_CONTEXT, PHONE_CONTEXT, Resident


def export_areas_for(*, viewer) -> list[Area]:
    """The communities and grids a viewer may filter an export by (their scope only)."""
    if not permissions.may_use_register(viewer):
        return []
    return list(
        Area.objects.filter(area_q(viewer), level__in=[Area.Level.COMMUNITY, Area.Level.GRID])
        .order_by("code")
        .only("code", "name", "level", "path")
    )


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    rows: int
    filename: str
    full: bool


def _tag_text(resident: Resident) -> str:
    return "、".join(
        f"{link.tag.name}({link.grade})" if link.grade else link.tag.name
        for link in resident.visible_tag_links
    )


def _export_row(resident: Resident, *, full: bool) -> list:
    household = resident.household
    if full:
        id_number = (
            decrypt(resident.id_number_encrypted, context=ID_NUMBER_CONTEXT)
            if resident.id_number_encrypted
            else ""
        )
        phone = (
            decrypt(resident.phone_encrypted, context=PHONE_CONTEXT)
            if resident.phone_encrypted
            else ""
        )
        phone = phone[3:] if phone.startswith("+86") else phone
        room = household.room
        birth = resident.birth_date
    else:
        id_number, phone, room = resident.id_number_masked, resident.phone_masked, ""
        # The full date would give back the digits the masked ID number hides.
        birth = str(resident.birth_date.year)
    return [
        household.number,
        household.grid.code,
        household.building.code if household.building_id else "",
        household.address,
        household.unit,
        room,
        TENURE_ZH.get(household.tenure, household.tenure),
        REGISTRATION_ZH.get(household.registration, household.registration),
        resident.name,
        id_number,
        GENDER_ZH.get(resident.gender, resident.gender),
        birth,
        RELATION_ZH.get(resident.relation, resident.relation),
        resident.ethnicity,
        phone,
        resident.moved_in_on,
        _tag_text(resident),
    ]


def residents_export(
    *,
    viewer,
    area: Area | None = None,
    tag: str | None = None,
    full: bool = False,
    reason: str = "",
    request=None,
) -> ExportFile:
    """The people of the viewer's scope (optionally one community or grid, one tag) as an
    xlsx in the template's columns: masked unless `full`, which needs the right and a
    reason. The export is logged (rows, filters) before the file is built."""
    if not permissions.may_use_register(viewer):
        raise DomainError("forbidden", _("Your role may not work with the register."))
    if area is not None and area not in export_areas_for(viewer=viewer):
        raise DomainError("not_found", _("Unknown area."), {"area": [_("Unknown area.")]})
    residents = selectors.resident_list_for(viewer=viewer, grid=area, tag=tag or None)
    residents = residents.select_related("household__building")
    rows = residents.count()
    services.export_logged(
        viewer=viewer,
        full=full,
        rows=rows,
        reason=reason,
        filters={"area": area.code if area else "", "tag": tag or "", "full": full},
        request=request,
    )
    now = timezone.localtime()
    workbook = Workbook(write_only=True)
    workbook.properties.creator = viewer.get_username()
    sheet = workbook.create_sheet("居民")
    for position, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(position)].width = column.width
    sheet.append(
        [
            _("Exported by %(user)s · %(time)s · for official use only")
            % {"user": viewer.get_username(), "time": f"{now:%Y-%m-%d %H:%M}"}
        ]
    )
    sheet.append([c.zh for c in COLUMNS])
    sheet.append([c.en for c in COLUMNS])
    for resident in residents.iterator(chunk_size=2000):
        sheet.append(safe_row(sheet, _export_row(resident, full=full)))
    out = io.BytesIO()
    workbook.save(out)
    scope = area.code if area else "all"
    kind = "full" if full else "masked"
    return ExportFile(
        content=out.getvalue(),
        rows=rows,
        filename=f"residents-{scope}-{kind}-{now:%Y%m%d-%H%M}.xlsx",
        full=full,
    )
