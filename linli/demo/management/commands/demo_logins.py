import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from linli.demo.services import DEMO_PASSWORD

SHOWN_PER_ROLE = {
    "admin": 1,
    "leader": 1,
    "dispatcher": 3,
    "grid_worker": 3,
    "handler": 3,
    "resident": 1,
}


def print_logins(out, accounts: list[dict], path: Path | None) -> None:
    out.write(f"\nDemo logins (password for all: {DEMO_PASSWORD})\n")
    out.write(f"  {'username':<14} {'role':<12} {'scope':<18} name\n")
    shown: dict[str, int] = {}
    for account in accounts:
        role = account["role"]
        if shown.get(role, 0) >= SHOWN_PER_ROLE.get(role, 1):
            continue
        shown[role] = shown.get(role, 0) + 1
        scope = account.get("area_code") or account.get("department") or "—"
        out.write(f"  {account['username']:<14} {role:<12} {scope:<18} {account['name']}\n")
    if path is not None:
        out.write(f"All {len(accounts)} demo logins, with role and scope: {path}\n")


class Command(BaseCommand):
    help = "Print the demo logins (from var/demo-accounts.json, or the database)."

    def handle(self, *args, **options):
        path = Path(settings.VAR_DIR) / "demo-accounts.json"
        if path.exists():
            accounts = json.loads(path.read_text(encoding="utf-8"))
        else:
            from linli.accounts.models import User

            accounts = [
                {
                    "username": u.username,
                    "role": u.role,
                    "name": u.name,
                    "area_code": u.area.code if u.area else None,
                    "department": u.department.code if u.department else None,
                }
                for u in User.objects.select_related("area", "department").order_by("pk")
            ]
            path = None
        if not accounts:
            self.stdout.write("No demo accounts: run `manage.py build_demo`.")
            return
        print_logins(self.stdout, accounts, path)
