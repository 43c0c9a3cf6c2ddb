import json

from django.core.management.base import BaseCommand

from linli.demo.services import DEMO_PASSWORD, demo_accounts, demo_accounts_path

# Enough to try every role: both street dispatchers and one community dispatcher, a few
# grid workers and department handlers.
SHOWN_PER_ROLE = {
    "admin": 1,
    "leader": 1,
    "dispatcher": 3,
    "grid_worker": 3,
    "handler": 3,
    "resident": 1,
}


def print_logins(out, accounts: list[dict], source: str) -> None:
    out.write(f"\nDemo logins (password for all: {DEMO_PASSWORD})\n")
    out.write(f"  {'username':<12} {'role':<12} {'scope':<26} name\n")
    shown: dict[str, int] = {}
    for account in accounts:
        role = account["role"]
        if shown.get(role, 0) >= SHOWN_PER_ROLE.get(role, 1):
            continue
        shown[role] = shown.get(role, 0) + 1
        if account.get("area_code"):
            scope = f"{account['area_level']} {account['area_code']}"
        elif account.get("department"):
            scope = f"department {account['department']}"
        else:
            scope = "—"
        out.write(f"  {account['username']:<12} {role:<12} {scope:<26} {account['name']}\n")
    out.write(f"All {len(accounts)} demo logins, with role and scope: {source}\n")


class Command(BaseCommand):
    help = "Print the demo logins (from var/demo-accounts.json, or else from the database)."

    def handle(self, *args, **options):
        path = demo_accounts_path()
        if path.exists():
            accounts = json.loads(path.read_text(encoding="utf-8"))
            source = str(path)
        else:
            accounts = demo_accounts()
            source = "the database (`build_demo` writes them to var/demo-accounts.json)"
        if not accounts:
            self.stdout.write("No demo logins: run `manage.py build_demo` on an empty database.")
            return
        print_logins(self.stdout, accounts, source)
