"""Writes of the Open311 entrance: keys, filing a request as a case, and a client's note
on a case (docs/open311.md).

A request is filed through cases.case_services.case_report(source="open311"), so it meets
every rule of every other entrance (an active matter, a point inside a grid, the matter's
questions, the photo checks), and in the same transaction a row links the case to the key
that filed it. A refused request stores nothing: no case, no link row, no photo file.
"""

import hmac
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify
from django.utils.translation import gettext as _

from linli.areas.models import Building
from linli.cases import notices
from linli.cases.case_services import case_report, contact_phone_parse
from linli.cases.intake.sensors import key_hash, key_new
from linli.cases.models import (
    ADDRESS_MAX,
    DESCRIPTION_MAX,
    EVENT_NOTE_MAX,
    Case,
    CaseEvent,
    Datatype,
    Matter,
    Source,
)
from linli.cases.workflow import Note
from linli.core.crypto import encrypt, mask_phone
from linli.core.errors import DomainError
from linli.core.validation import markup_problem
from linli.open311 import statuses
from linli.open311.models import (
    CHANNEL_MAX,
    CLIENT_ID_MAX,
    EMAIL_CONTEXT,
    KEY_PREFIX_LENGTH,
    PHONE_CONTEXT,
    UPDATE_ID_MAX,
    Open311Key,
    Open311Request,
    Open311Update,
)

# Open311 allows descriptions of up to 4,000 characters (open311.md P3).
DESCRIPTION_LIMIT = 4000
NAME_MAX = 50
EMAIL_MAX = 254
MEDIA_URL_MAX = 500
MEDIA_URLS_MAX = 6
KEY_NAME_MAX = 100
# Bromley's FixMyStreet sends this address_id for a report placed by no map pin (X8).
NOT_PINPOINTED = "#NOTPINPOINTED#"
ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
_url = URLValidator(schemes=["http", "https"])


def _invalid(fields: dict[str, list[str]]) -> DomainError:
    return DomainError("invalid", _("Please correct the marked fields."), fields)


def _not_found(field: str, message: str) -> DomainError:
    return DomainError("not_found", message, {field: [message]})


def mask_email(email: str) -> str:
    """a***@example.org: the first character of the mailbox and the whole domain."""
    local, _at, domain = email.partition("@")
    if not local or not domain:
        return "*" * len(email)
    return f"{local[0]}***@{domain}"


# --- keys ------------------------------------------------------------------------------------


def open311_key_check(*, name: str, channel: str = "") -> tuple[str, str]:
    """The key's name and channel, cleaned, or DomainError: the name is unique, the
    channel a slug (the name's, slugified, when not given)."""
    fields: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        fields["name"] = [_("Give the key a name, e.g. the client's site.")]
    elif len(name) > KEY_NAME_MAX:
        fields["name"] = [_("At most %(n)d characters.") % {"n": KEY_NAME_MAX}]
    elif Open311Key.objects.filter(name=name).exists():
        fields["name"] = [_("A key with this name exists.")]
    channel = slugify((channel or "").strip() or name)[:CHANNEL_MAX]
    if not channel:
        fields["channel"] = [_("Give the channel in Latin letters, e.g. fixmystreet.")]
    if fields:
        raise _invalid(fields)
    return name, channel


def open311_key_issue(*, name: str, channel: str = "", created_by=None) -> tuple[Open311Key, str]:
    """Issue a key for an Open311 client; returns it and the key itself, which is shown
    this once and stored only as its SHA-256."""
    name, channel = open311_key_check(name=name, channel=channel)
    raw, digest, prefix = key_new()
    key = Open311Key(
        name=name,
        channel=channel,
        key_hash=digest,
        key_prefix=prefix,
        created_by=created_by,
    )
    try:
        with transaction.atomic():
            key.save()
    except IntegrityError:
        raise _invalid({"name": [_("A key with this name exists.")]}) from None
    return key, raw


def open311_key_revoke(*, key: Open311Key, at: datetime | None = None) -> Open311Key:
    """Refuse the key from now on; what it filed stays, marked with its channel."""
    if key.revoked_at is None:
        key.revoked_at = at or timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def open311_key_for(raw: str | None) -> Open311Key | None:
    """The live key `raw`, or None. Keys are found by their first characters (not secret:
    the admin shows them), then the SHA-256 is compared in constant time."""
    if not raw or len(raw) > 200:
        return None
    digest = key_hash(raw)
    found = None
    for key in Open311Key.objects.filter(key_prefix=raw[:KEY_PREFIX_LENGTH]):
        if hmac.compare_digest(key.key_hash, digest):
            found = key
    if found is None or not found.is_active:
        return None
    return found


# --- input ----------------------------------------------------------------------------------


def attributes_from(data) -> dict[str, list[str]]:
    """attribute[CODE]=v and attribute[CODE][]=v (repeated) from a form, as code → values."""
    found: dict[str, list[str]] = {}
    for name in data:
        match = ATTRIBUTE.match(name)
        if match:
            values = [v for v in data.getlist(name) if v != ""]
            found.setdefault(match.group(1), []).extend(values)
    return found


def _answers(matter: Matter, attributes: dict[str, list[str]]) -> tuple[dict, dict]:
    """The matter's answers from the attributes (a multiple choice keeps every value, the
    rest the last one), and the attributes the matter does not ask (kept, not refused:
    FixMyStreet sends its own, such as attribute[uprn])."""
    questions = {q.code: q for q in matter.questions.all()}
    answers, extra = {}, {}
    for code, values in attributes.items():
        question = questions.get(code)
        if question is None:
            extra[code] = values
        elif not values:
            continue
        elif question.datatype == Datatype.MULTIVALUELIST:
            answers[code] = values
        else:
            answers[code] = values[-1]
    return answers, extra


def _float(value: str) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if abs(number) != float("inf") and number == number else None


def _point(lat: str, long: str, address_string: str, address_id: str, fields: dict):
    """(lon, lat) from exactly one of the location forms (P1), or (None, None) with the
    problems in `fields`. Coordinates are WGS-84, which is what linli stores."""
    if lat or long:
        y, x = _float(lat), _float(long)
        if not lat or not long:
            message = _("Give both lat and long.")
            fields["lat" if not lat else "long"] = [message]
        elif y is None or not -90 <= y <= 90:
            fields["lat"] = [_("Give the latitude as a WGS-84 number between -90 and 90.")]
        elif x is None or not -180 <= x <= 180:
            fields["long"] = [_("Give the longitude as a WGS-84 number between -180 and 180.")]
        else:
            return x, y
        return None, None
    if address_id:
        if address_id == NOT_PINPOINTED:
            fields["address_id"] = [
                _("This request was not placed on the map; send lat and long of the place.")
            ]
            return None, None
        building = Building.objects.filter(code=address_id).first()
        if building is None and address_id.isdigit():
            building = Building.objects.filter(pk=int(address_id)).first()
        if building is None:
            fields["address_id"] = [_("No building has this code.")]
        elif building.lon is None or building.lat is None:
            fields["address_id"] = [_("This building has no position; send lat and long.")]
        else:
            return building.lon, building.lat
        return None, None
    if address_string:
        # No geocoder: an address places a request only when it is a building's own.
        buildings = list(Building.objects.filter(address__iexact=address_string)[:2])
        if len(buildings) == 1 and buildings[0].lon is not None and buildings[0].lat is not None:
            return buildings[0].lon, buildings[0].lat
        fields["address_string"] = [
            _("This address cannot be placed on the map; send lat and long or an address_id.")
        ]
        return None, None
    message = _("Give the place: lat and long, address_string or address_id.")
    fields["lat"] = fields["long"] = [message]
    return None, None


def _text(value: str, field: str, limit: int, fields: dict) -> str:
    """Free text, stripped, at most `limit` characters and plain (no markup)."""
    value = (value or "").strip()
    if len(value) > limit:
        fields[field] = [_("At most %(n)d characters.") % {"n": limit}]
    elif markup := markup_problem(value):
        fields[field] = [markup]
    return value


def _email(value: str, fields: dict) -> str:
    value = _text(value, "email", EMAIL_MAX, fields)
    if value and "email" not in fields:
        try:
            validate_email(value)
        except ValidationError:
            fields["email"] = [_("Not a valid email address.")]
    return value


def _media_urls(values: list[str], fields: dict) -> list[str]:
    urls = [v.strip() for v in values if v and v.strip()]
    if len(urls) > MEDIA_URLS_MAX:
        fields["media_url"] = [_("At most %(n)d links.") % {"n": MEDIA_URLS_MAX}]
        return []
    for url in urls:
        try:
            if len(url) > MEDIA_URL_MAX:
                raise ValidationError("long")
            _url(url)
        except ValidationError:
            fields["media_url"] = [_("Give http or https links of at most 500 characters.")]
            return []
    return urls


# Field names of case_report's errors as an Open311 client sent them.
REPORT_FIELDS = {
    "lon": "long",
    "matter": "service_code",
    "photos": "media",
    "contact_name": "first_name",
    "contact_phone": "phone",
}


def _client_fields(problem: DomainError) -> DomainError:
    fields = {}
    for name, messages in problem.fields.items():
        if name.startswith("answers."):
            name = f"attribute[{name.removeprefix('answers.')}]"
        fields[REPORT_FIELDS.get(name, name)] = messages
    return DomainError(problem.code, problem.message, fields)


@dataclass
class RequestIn:
    """A POST requests body, read by the view (open311.md P1–P3, X8)."""

    service_code: str = ""
    lat: str = ""
    long: str = ""
    address_string: str = ""
    address_id: str = ""
    attributes: dict[str, list[str]] = field(default_factory=dict)
    description: str = ""
    email: str = ""
    phone: str = ""
    first_name: str = ""
    last_name: str = ""
    device_id: str = ""
    account_id: str = ""
    media_urls: list[str] = field(default_factory=list)
    photos: list = field(default_factory=list)


# --- requests ---------------------------------------------------------------------------------


def open311_request_file(
    *, key: Open311Key, data: RequestIn, matter: Matter | None, at: datetime | None = None
) -> Open311Request:
    """File a request of an Open311 client as a case (source open311) and link it to the
    key; `matter` is the service the view found for data.service_code (None: unknown)."""
    now = at or timezone.now()
    if not data.service_code.strip():
        raise _invalid({"service_code": [_("Give the service_code.")]})
    if matter is None or not matter.is_active or not matter.public:
        raise _not_found("service_code", _("No such service; see services.xml."))
    fields: dict[str, list[str]] = {}
    lon, lat = _point(
        data.lat.strip(),
        data.long.strip(),
        data.address_string.strip(),
        data.address_id.strip(),
        fields,
    )
    description = _text(data.description, "description", DESCRIPTION_LIMIT, fields)
    address = _text(data.address_string, "address_string", ADDRESS_MAX, fields)
    name = " ".join(
        part for part in (data.first_name.strip(), data.last_name.strip()) if part
    )  # fmt: skip
    if len(name) > NAME_MAX:
        fields["first_name"] = [_("At most %(n)d characters.") % {"n": NAME_MAX}]
    email = _email(data.email, fields)
    phone = data.phone.strip()
    if phone and contact_phone_parse(phone) is None:
        fields["phone"] = [_("Not a valid mainland phone number.")]
    device_id = _text(data.device_id, "device_id", CLIENT_ID_MAX, fields)
    account_id = _text(data.account_id, "account_id", CLIENT_ID_MAX, fields)
    media_urls = _media_urls(data.media_urls, fields)
    answers, extra = _answers(matter, data.attributes)
    if fields:
        raise _invalid(fields)
    full = ""
    if not description:
        # Open311 leaves the description optional; a case needs one.
        description = matter.name
    elif len(description) > DESCRIPTION_MAX:
        full = description
        description = description[: DESCRIPTION_MAX - 1] + "…"
    token = uuid.uuid4().hex
    with transaction.atomic():
        try:
            case = case_report(
                matter=matter,
                description=description,
                lon=lon,
                lat=lat,
                source=Source.OPEN311,
                address=address,
                anonymous=not (name or email or phone),
                answers=answers,
                photos=data.photos,
                external_ref=token,
                contact_name=name,
                contact_phone=phone,
                at=now,
            )
        except DomainError as problem:
            raise _client_fields(problem) from None
        try:
            link = Open311Request.objects.create(
                case=case,
                key=key,
                channel=key.channel,
                token=token,
                device_id=device_id,
                account_id=account_id,
                media_urls=media_urls,
                extra_attributes=extra,
                email_encrypted=encrypt(email, context=EMAIL_CONTEXT) if email else "",
                email_masked=mask_email(email) if email else "",
                description_full=full,
                created_at=now,
            )
            Open311Key.objects.filter(pk=key.pk).update(last_used_at=now)
        except Exception:
            # The photos are on disk already; the rollback takes only their rows.
            for photo in getattr(case, "_last_photos", []):
                photo.image.delete(save=False)
                photo.thumbnail.delete(save=False)
            raise
    return link


# --- a client's note on a case (mySociety servicerequestupdates, X6) ---------------------------


@dataclass
class UpdateIn:
    service_request_id: str = ""
    update_id: str = ""
    updated_datetime: str = ""
    status: str = ""
    description: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    media_urls: list[str] = field(default_factory=list)


def _update_status(value: str, case: Case, fields: dict) -> str:
    """The client's status, which may only agree with the case's: an outside client
    cannot close, cancel or reopen a case (only the on-site check closes one, and only
    the centre reopens one after an unsatisfied callback)."""
    status = value.strip().lower()
    if not status:
        fields["status"] = [_("Give the status: OPEN or CLOSED.")]
        return ""
    if status not in statuses.EXTENDED:
        fields["status"] = [_("Unknown status; use OPEN, CLOSED or an extended status.")]
        return ""
    wanted = statuses.OPEN_OR_CLOSED.get(status)
    current = statuses.open_or_closed(case.status)
    if wanted is not None and wanted != current:
        if current == "open":
            message = _(
                "The case is open: only the street's on-site check closes it. Send the note "
                "with status OPEN."
            )
        else:
            message = _(
                "The case is closed: only the dispatch centre reopens it, after the reporter "
                "says they are not satisfied. Send the note with status CLOSED."
            )
        fields["status"] = [message]
    return status


def open311_update_post(
    *, key: Open311Key, data: UpdateIn, case: Case | None, at: datetime | None = None
) -> Open311Update:
    """Record a client's note (a resident's follow-up on FixMyStreet) on the case's
    timeline, public, with its channel; the same update_id from the same channel is
    taken once. `case` is what the view found for data.service_request_id."""
    now = at or timezone.now()
    if not data.service_request_id.strip():
        raise _invalid({"service_request_id": [_("Give the service_request_id.")]})
    if case is None:
        raise _not_found("service_request_id", _("No such service request."))
    fields: dict[str, list[str]] = {}
    update_id = _text(data.update_id, "update_id", UPDATE_ID_MAX, fields)
    if not update_id and "update_id" not in fields:
        fields["update_id"] = [_("Give the update_id.")]
    elif Open311Update.objects.filter(channel=key.channel, update_id=update_id).exists():
        fields["update_id"] = [_("This update has already been received.")]
    client_time = None
    if data.updated_datetime.strip():
        client_time = parse_w3c(data.updated_datetime)
        if client_time is None:
            fields["updated_datetime"] = [
                _("Give a W3C date-time with its zone, e.g. 2026-05-01T08:30:00+08:00.")
            ]
    status = _update_status(data.status, case, fields)
    note = _text(data.description, "description", EVENT_NOTE_MAX, fields)
    media_urls = _media_urls(data.media_urls, fields)
    if not note and not media_urls and "description" not in fields:
        fields["description"] = [_("Write the note, or send a media_url.")]
    name = " ".join(p for p in (data.first_name.strip(), data.last_name.strip()) if p)
    if len(name) > NAME_MAX:
        fields["first_name"] = [_("At most %(n)d characters.") % {"n": NAME_MAX}]
    email = _email(data.email, fields)
    phone = data.phone.strip()
    if len(phone) > 20:
        fields["phone"] = [_("At most %(n)d characters.") % {"n": 20}]
    if fields:
        raise _invalid(fields)
    event_data = {
        "channel": key.channel,
        "update_id": update_id,
        "status": status,
        "media_urls": media_urls,
    }
    if client_time is not None:
        event_data["updated_datetime"] = client_time.isoformat()
    try:
        with transaction.atomic():
            # The row lock orders this note among the case's moves.
            case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
            event = CaseEvent.objects.create(
                case=case,
                actor=None,
                action=Note.COMMENT,
                from_status=case.status,
                to_status=case.status,
                note=note,
                public=True,
                data=event_data,
                created_at=now,
            )
            notices.case_event_notify(case, event)
            update = Open311Update.objects.create(
                case=case,
                event=event,
                key=key,
                channel=key.channel,
                update_id=update_id,
                media_urls=media_urls,
                contact_name=name,
                email_encrypted=encrypt(email, context=EMAIL_CONTEXT) if email else "",
                email_masked=mask_email(email) if email else "",
                phone_encrypted=encrypt(phone, context=PHONE_CONTEXT) if phone else "",
                phone_masked=mask_phone(phone) if phone else "",
                created_at=now,
            )
            Open311Key.objects.filter(pk=key.pk).update(last_used_at=now)
    except IntegrityError:
        # The same update sent twice at the same instant: the unique index let one in.
        raise _invalid({"update_id": [_("This update has already been received.")]}) from None
    return update


def parse_w3c(value: str) -> datetime | None:
    """A W3C date-time with its zone, or None. A "+" that a client left unencoded in a
    query string arrives as a space."""
    value = (value or "").strip().replace(" ", "+")
    try:
        moment = parse_datetime(value)
    except ValueError:
        return None
    if moment is None or timezone.is_naive(moment):
        return None
    return moment
