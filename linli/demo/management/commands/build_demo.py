import time

from django.core.management.base import BaseCommand, CommandError

from linli.areas.models import Area
from linli.core.errors import DomainError
from linli.demo.management.commands.demo_logins import print_logins
from linli.demo.services import SIZES, demo_build


class Command(BaseCommand):
    help = "Build the demo street (胜利街道, Dongying): communities, grids, buildings, accounts."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026, help="same seed, same street")
        parser.add_argument(
            "--size", choices=list(SIZES), default="full", help="full (26 communities) or small"
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing when the database already holds any area (for `make run`)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        if options["if_empty"] and Area.objects.exists():
            self.stdout.write("The database already holds areas; the demo street is not rebuilt.")
            return
        started = time.perf_counter()
        try:
            summary = demo_build(
                seed=options["seed"],
                size=options["size"],
                progress=not options["no_progress"],
            )
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        counts = ", ".join(f"{n} {name}" for name, n in summary.counts.items() if n)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo street built in {time.perf_counter() - started:.1f} s "
                f"(seed {options['seed']}, size {options['size']}): {counts}"
            )
        )
        print_logins(self.stdout, summary.accounts, str(summary.accounts_path))
