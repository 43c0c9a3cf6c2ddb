"""What each Open311 resource holds, as plain dicts and lists that linli.open311.formats
writes as XML or JSON (open311.md D2, S2, SD2, R3, X2, X4)."""

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from linli.cases.models import Case, CaseEvent, Matter
from linli.cases.selectors import event_public_actor
from linli.cases.workflow import Action, Note, Status
from linli.open311 import statuses
from linli.open311.formats import XML_TYPE
from linli.open311.selectors import LOCATION_DECIMALS

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When the shape of this endpoint last changed (D2): clients compare it with what they
# stored to know whether to read discovery again.
CHANGESET = "2026-11-25T00:00:00Z"
JSON_MIME = "application/json"


def discovery(request) -> dict:
    url = request.build_absolute_uri(reverse("open311:index")).rstrip("/")
    contact = settings.LINLI_OPEN311_CONTACT or _(
        "The street's dispatch centre (see the site's contact page)."
    )
    key_service = settings.LINLI_OPEN311_KEY_SERVICE or _(
        "Ask the street's administrators for a key; it is issued with manage.py open311_key."
    )
    return {
        "changeset": CHANGESET,
        "contact": contact,
        "key_service": key_service,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url,
                "changeset": CHANGESET,
                "type": settings.LINLI_OPEN311_ENDPOINT_TYPE,
                "formats": [XML_TYPE.split(";")[0], JSON_MIME],
            }
        ],
    }


def service(matter: Matter, has_questions: bool) -> dict:
    words = [w for w in matter.keywords.replace("，", " ").replace(",", " ").split() if w]
    return {
        "service_code": matter.code,
        "service_name": matter.name,
        "description": matter.description,
        "metadata": has_questions,
        "type": "realtime",
        "keywords": ",".join(words),
        "group": matter.matter_class.name,
        # FixMyStreet reads several groups from <groups><group> (open311.md X7); a matter
        # has one class.
        "groups": [matter.matter_class.name],
    }


def definition(matter: Matter) -> dict:
    attributes = []
    for position, question in enumerate(matter.questions.all(), start=1):
        attribute = {
            "variable": True,
            "code": question.code,
            "datatype": question.datatype,
            "required": question.required,
            "datatype_description": question.help_text,
            # Open311 wants 1, 2, 3… unique within the service; the catalogue's own order
            # may repeat or skip, so the position in that order is given.
            "order": position,
            "description": question.prompt,
        }
        if question.is_list:
            attribute["values"] = [
                {"key": option.key, "name": option.name} for option in question.options.all()
            ]
        attributes.append(attribute)
    return {"service_code": matter.code, "attributes": attributes}


def _place(case: Case) -> str:
    community = case.grid.parent
    return f"{case.grid.name} · {community.name}" if community else case.grid.name


def _link(case: Case):
    try:
        return case.open311
    except Case.open311.RelatedObjectDoesNotExist:
        return None


def _summary(event: CaseEvent) -> str:
    if event.action == "report":
        return _("reported")
    if event.action in Action.values:
        return str(Action(event.action).label)
    if event.action in Note.values:
        return str(Note(event.action).label)
    return event.action


def _channel(event: CaseEvent, case: Case) -> str:
    """The Open311 channel that made the entry: a client's note, or its report."""
    channel = (event.data or {}).get("channel")
    if not channel and event.action == "report":
        link = _link(case)
        channel = link.channel if link is not None else ""
    return channel or ""


def _update_text(event: CaseEvent, case: Case) -> str:
    # The public sees what happened and who did it, never what anyone wrote (a note may
    # name a person or a home), as on the public case page.
    by = _channel(event, case) or event_public_actor(event, case)
    return f"{_summary(event)} ({by})"


def request(case: Case, *, extended: bool = False) -> dict:
    link = _link(case)
    closed = statuses.open_or_closed(case.status) == "closed"
    media = link.media_urls if link is not None else []
    out = {
        "service_request_id": case.number,
        "status": "closed" if closed else "open",
        "status_notes": str(Status(case.status).label),
        "service_name": case.matter.name,
        "service_code": case.matter.code,
        "description": case.description,
        "agency_responsible": case.lead_department.name if case.lead_department_id else "",
        "service_notice": "",
        "requested_datetime": case.reported_at,
        "updated_datetime": (case.closed_at or case.updated_at) if closed else case.updated_at,
        "expected_datetime": case.deadline,
        "address": _place(case),
        "address_id": "",
        "zipcode": "",
        "lat": round(case.lat, LOCATION_DECIMALS),
        "long": round(case.lon, LOCATION_DECIMALS),
        "media_url": media[0] if media else "",
    }
    if extended:
        out["extended_attributes"] = {
            "status": statuses.extended(case.status),
            "linli_status": case.status,
            "channel": link.channel if link is not None else case.source,
            "grid": case.grid.code,
            "duplicate": case.status == Status.MERGED,
            "parent_service_request_id": case.merged_into.number if case.merged_into_id else "",
            "photos": media,
        }
        out["notes"] = [
            {
                "datetime": event.created_at,
                "type": "update",
                "summary": _summary(event),
                "description": _update_text(event, case),
            }
            for event in getattr(case, "open311_events", [])
        ]
    return out


def update(event: CaseEvent) -> dict:
    case = event.case
    status = statuses.open_or_closed(event.to_status)
    media = (event.data or {}).get("media_urls") or []
    return {
        "update_id": str(event.pk),
        "service_request_id": case.number,
        "status": status,
        "updated_datetime": event.created_at,
        "description": _update_text(event, case),
        "media_url": media[0] if media else "",
        "external_status_code": statuses.extended(event.to_status, event.action),
        "extras": {"channel": _channel(event, case), "action": event.action},
    }
