"""The navigation bar, by role. Each entry: (label, url name, roles that see it)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

STAFF = {"grid_worker", "dispatcher", "handler", "leader", "admin"}
ALL = STAFF | {"resident"}

NAV = [
    (_("Home"), "home", ALL),
    # Shows the unread count (linli.notifications.context_processors).
    (_("Notifications"), "notifications:list", ALL),
    (_("Map"), "areas:map", ALL),
    (_("Report a problem"), "cases:report", {"resident", "grid_worker", "dispatcher"}),
    (_("My reports"), "cases:mine", {"resident"}),
    (_("Areas"), "areas:list", STAFF),
    (_("Cases"), "cases:list", STAFF),
    (_("Queue"), "cases:queue", {"dispatcher", "admin"}),
    (_("Inbox"), "cases:inbox", {"handler"}),
    (_("Exemptions"), "cases:exemptions", {"leader"}),
    (_("To check"), "cases:verify", {"grid_worker", "dispatcher", "admin"}),
    (_("My household"), "people:mine", {"resident"}),
    (_("Register"), "people:home", {"grid_worker", "dispatcher", "admin"}),
    # Leaders see counts, not people; the others reach the counts from the register.
    (_("Overview"), "people:overview", {"leader", "dispatcher", "admin"}),
    (_("Access log"), "people:access_log", {"admin"}),
    (_("Visits"), "people:overdue", {"grid_worker", "dispatcher", "admin"}),
    (_("Import grids"), "areas:import", {"admin"}),
    (_("Import 12345"), "cases:import", {"dispatcher", "admin"}),
    (_("Matter suggester"), "cases:suggester", {"admin"}),
    (_("Administration"), "admin:index", {"admin"}),
]


def nav_for(user) -> list[dict]:
    if not user.is_authenticated:
        return []
    role = getattr(user, "role", None)
    return [
        {"label": label, "url": reverse(name), "name": name}
        for label, name, roles in NAV
        if role in roles
    ]
