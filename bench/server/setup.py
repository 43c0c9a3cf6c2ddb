"""Prepare the bench server's database: the small demo street (catalogue, grids, accounts),
the bare view's table, and a token for a resident. Prints JSON: token, matter, a point."""

import json
import os
import sys
from pathlib import Path


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.server.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from linli.accounts.models import User
    from linli.accounts.services import api_token_issue
    from linli.areas.models import Area, Building
    from linli.demo.services import demo_build

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    demo_build(size="small", progress=False, accounts_path=Path(os.devnull))
    from bench.server.urls import table_create

    table_create()
    resident = User.objects.filter(role="resident", is_active=True).order_by("pk").first()
    _token, raw = api_token_issue(user=resident, name="bench", days=1)
    building = Building.objects.filter(grid__in=Area.objects.filter(level="grid")).first()
    json.dump(
        {"token": raw, "matter": "06010", "lon": building.lon, "lat": building.lat},
        sys.stdout,
    )


if __name__ == "__main__":
    main()
