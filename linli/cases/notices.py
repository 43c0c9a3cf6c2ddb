"""Who is told what when a case moves (issue 4 §6).

case_services calls `case_event_notify` right after it appends a timeline entry, inside
the same transaction: the in-app rows commit with the move, email and SMS go out after
the commit (linli.notifications). The reporter (and everyone following the case: "me
too" and merged duplicates) hears that the case was accepted, closed (and asked to
rate), rejected, parked, merged or given more time; a 12345 caller without an account
gets the same by SMS to the number they gave. Staff hear of the work that is now theirs.
"""

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.core.crypto import decrypt
from linli.notifications.registry import get_kind, register_kind
from linli.notifications.services import notify, notify_many

# (kind, title, body, email, sms). Titles and bodies are filled from the params below.
KINDS = [
    (
        "case_accepted",
        _("Your report %(number)s was accepted"),
        _("“%(matter)s” is now a case; you will hear when it is closed."),
        True,
        True,
    ),
    (
        "case_rejected",
        _("Your report %(number)s was not accepted"),
        _("“%(matter)s”: %(note)s"),
        True,
        True,
    ),
    (
        "case_closed",
        _("Case %(number)s is closed — please rate it"),
        _(
            "“%(matter)s” was handled and checked on site. Was it resolved? Tell us how "
            "satisfied you are."
        ),
        True,
        True,
    ),
    (
        "case_parked",
        _("Case %(number)s cannot be solved for now"),
        _("“%(matter)s”: %(note)s"),
        True,
        False,
    ),
    (
        "case_merged",
        _("Your report %(number)s joins case %(into)s"),
        _("The same problem was already reported; you will hear the outcome of %(into)s."),
        True,
        False,
    ),
    (
        "case_extended",
        _("Case %(number)s has more time"),
        _("“%(matter)s”: the department now has until %(deadline)s."),
        True,
        False,
    ),
    (
        "case_dispatched",
        _("New case %(number)s for your department"),
        _("“%(matter)s”, due %(deadline)s."),
        False,
        False,
    ),
    (
        "case_sent_back",
        _("Case %(number)s was sent back"),
        _("%(department)s returned “%(matter)s”: %(note)s"),
        False,
        False,
    ),
    (
        "case_to_verify",
        _("Case %(number)s is waiting for your check"),
        _("The department replied on “%(matter)s”; check it on site."),
        False,
        False,
    ),
    (
        "case_rework",
        _("Case %(number)s failed its check"),
        _("“%(matter)s” must be handled again: %(note)s"),
        False,
        False,
    ),
    (
        "case_reopened",
        _("Case %(number)s was reopened"),
        _("The reporter was not satisfied with “%(matter)s”; it is due %(deadline)s."),
        False,
        False,
    ),
    (
        "case_extension_asked",
        _("Extension asked on case %(number)s"),
        _("%(department)s asks for more time on “%(matter)s”: %(note)s"),
        False,
        False,
    ),
    (
        "case_extension_answered",
        _("Extension on case %(number)s answered"),
        _("“%(matter)s”: %(answer)s %(note)s"),
        False,
        False,
    ),
    (
        "case_urged",
        _("Case %(number)s: the centre presses for progress"),
        _("“%(matter)s” is due %(deadline)s. %(note)s"),
        False,
        True,
    ),
    (
        "case_deadline_near",
        _("Case %(number)s is due soon"),
        _("“%(matter)s” is due %(deadline)s."),
        False,
        False,
    ),
    (
        "case_overdue",
        _("Case %(number)s is overdue"),
        _("“%(matter)s” was due %(deadline)s (督办)."),
        True,
        True,
    ),
    (
        "case_escalated",
        _("Case %(number)s is five working days overdue"),
        _("“%(matter)s” at %(department)s was due %(deadline)s."),
        True,
        False,
    ),
    (
        "case_whistle",
        _("Whistle on case %(number)s: report in"),
        _("The street summons your department to “%(matter)s”: %(note)s"),
        True,
        True,
    ),
    (
        "case_reported_in",
        _("%(department)s reported in on case %(number)s"),
        _("%(minutes)s minutes after the whistle."),
        False,
        False,
    ),
]
for _kind, _title, _body, _email, _sms in KINDS:
    register_kind(_kind, title=_title, body=_body, email=_email, sms=_sms)

User = get_user_model()


def case_link(case) -> str:
    """The path of the case page (cases:case)."""
    return f"/cases/{case.pk}/"


def _active(**filters):
    return User.objects.filter(is_active=True, **filters)


def _area_staff(case, roles: list[str]):
    """Users of `roles` whose area scope holds the case's grid (administrators without an
    area are not told: they are not on duty for a street)."""
    prefixes = []
    path = case.grid.path
    for i in range(1, len(path)):
        if path[i] == "/":
            prefixes.append(path[: i + 1])
    return _active(role__in=roles, area__path__in=prefixes)


def _department(department_ids):
    return _active(role="handler", department_id__in=list(department_ids))


def _lead(case):
    if case.lead_department_id is None:
        return User.objects.none()
    return _department([case.lead_department_id])


def _followers(case):
    """The reporter and everyone following the case, whatever their role."""
    q = Q(case_supports__case=case)
    if case.reporter_id:
        q |= Q(pk=case.reporter_id)
    return _active().filter(q).distinct()


def _contact_phones(case) -> list[str]:
    """The numbers of the callers without an account: this case's, and those of the
    duplicates merged into it (at any depth), who hear its outcome too."""
    from linli.cases.models import CONTACT_PHONE_CONTEXT, Case

    sealed = [case.contact_phone_encrypted] if case.contact_phone_encrypted else []
    seen, layer = {case.pk}, [case.pk]
    while layer:
        merged = list(
            Case.objects.filter(merged_into__in=layer)
            .exclude(pk__in=seen)
            .values_list("pk", "contact_phone_encrypted")
        )
        layer = [pk for pk, _phone in merged]
        seen.update(layer)
        sealed += [phone for _pk, phone in merged if phone]
    return [decrypt(token, context=CONTACT_PHONE_CONTEXT) for token in sealed]


def _deadline(case) -> str:
    from django.utils import formats, timezone

    if case.deadline is None:
        return "—"
    return formats.date_format(timezone.localtime(case.deadline), "SHORT_DATETIME_FORMAT")


# The supervision steps of the SLA sweep, and who each tells (case_event_notify says the
# same one case at a time).
SWEEP_NOTICES = {
    "remind": "case_deadline_near",
    "supervise": "case_overdue",
    "escalate": "case_escalated",
}


def _params(case, event) -> dict:
    return {
        "number": case.number,
        "matter": case.matter.name,
        "note": event.note,
        "deadline": _deadline(case),
        "department": case.lead_department.name if case.lead_department_id else "",
    }


def sweep_notify(action: str, pairs: list) -> None:
    """Tell the people a batch of one supervision step concerns — (case, event) pairs of
    the SLA sweep, all with `action` — with one query for the recipients and one insert
    for the notifications, whatever the number of cases."""
    if not pairs:
        return
    kind = SWEEP_NOTICES[action]
    if action == "escalate":
        staff: dict[int, list] = {}
        for case, _event in pairs:
            if case.grid_id not in staff:
                staff[case.grid_id] = list(_area_staff(case, ["leader", "dispatcher"]))
        recipients = [staff[case.grid_id] for case, _event in pairs]
    else:
        handlers: dict[int, list] = {}
        departments = {case.lead_department_id for case, _event in pairs}
        for user in _department(d for d in departments if d is not None):
            handlers.setdefault(user.department_id, []).append(user)
        recipients = [handlers.get(case.lead_department_id, []) for case, _event in pairs]
    notify_many(
        kind,
        [
            (users, _params(case, event), case_link(case), f"case:{case.pk}", ())
            for (case, event), users in zip(pairs, recipients, strict=True)
        ],
    )


def case_event_notify(case, event) -> None:
    """Tell the people a new timeline entry concerns."""
    action = event.action
    params = _params(case, event)
    link = case_link(case)
    ref = f"case:{case.pk}"

    def tell(recipients, kind, *, texts_caller=False, **extra):
        phones = _contact_phones(case) if texts_caller else ()
        notify(
            recipients,
            kind=kind,
            params=params | extra,
            link=link,
            object_ref=ref,
            sms_phones=phones,
        )
        if phones and not get_kind(kind).sms:
            # A caller without an account has no in-app list and no email: for the news
            # that users read there (parked, merged, more time), a text is all they get.
            notify([], kind=kind, params=params | extra, link=link, sms=True, sms_phones=phones)

    match action:
        case "accept":
            tell(_followers(case), "case_accepted", texts_caller=True)
        case "reject":
            tell(_followers(case), "case_rejected", texts_caller=True)
        case "verify_pass":
            tell(_followers(case), "case_closed", texts_caller=True)
        case "park":
            tell(_followers(case), "case_parked", texts_caller=True)
        case "merge":
            tell(
                _followers(case),
                "case_merged",
                texts_caller=True,
                into=event.data.get("into", ""),
            )
        case "extension_approve":
            tell(_followers(case), "case_extended", texts_caller=True)
            tell(_lead(case), "case_extension_answered", answer=str(_("Approved.")))
        case "extension_refuse":
            tell(_lead(case), "case_extension_answered", answer=str(_("Refused.")))
        case "dispatch":
            departments = case.assignments.values_list("department_id", flat=True)
            tell(_department(departments), "case_dispatched")
        case "reopen":
            tell(_lead(case), "case_reopened")
        case "send_back":
            department = event.data.get("department", "")
            tell(_area_staff(case, ["dispatcher"]), "case_sent_back", department=department)
        case "reply":
            tell(_area_staff(case, ["grid_worker"]), "case_to_verify")
        case "verify_fail":
            tell(_lead(case), "case_rework")
        case "extension_request":
            tell(_area_staff(case, ["dispatcher"]), "case_extension_asked")
        case "urge":
            tell(_lead(case), "case_urged")
        case "remind" | "supervise" | "escalate":
            sweep_notify(action, [(case, event)])
        case "whistle":
            departments = [d for d in event.data.get("departments", [])]
            tell(_active(role="handler", department__code__in=departments), "case_whistle")
        case "report_in":
            caller = event.data.get("whistle")
            callers = _active(pk__in=case.whistles.filter(pk=caller).values("called_by"))
            tell(
                callers,
                "case_reported_in",
                department=event.data.get("department", ""),
                minutes=event.data.get("minutes", 0),
            )
