"""Train the matter suggester on the closed cases and save it (linli.cases.suggest); run it
weekly from cron. Exits 1, writing nothing, when the history is too short. See
docs/suggester.md."""

from django.core.management.base import BaseCommand, CommandError

from linli.cases import suggest
from linli.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Train the matter suggester on the centre's closed cases: measure it on held-out "
        "cases, refit on all and save it. Exits 1 when there is too little history."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--min-cases",
            type=int,
            default=suggest.MIN_CASES,
            help=f"closed cases needed to train at all (default {suggest.MIN_CASES})",
        )
        parser.add_argument(
            "--min-per-matter",
            type=int,
            default=suggest.MIN_PER_MATTER,
            help=f"closed cases a matter needs to be learnt (default {suggest.MIN_PER_MATTER})",
        )
        parser.add_argument(
            "--test-size",
            type=float,
            default=suggest.TEST_SIZE,
            help=f"share of the cases held out to measure accuracy (default {suggest.TEST_SIZE})",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=suggest.SEED,
            help="same seed, same split and same model",
        )

    def handle(self, *args, **options):
        try:
            report = suggest.suggester_train(
                min_cases=options["min_cases"],
                min_per_matter=options["min_per_matter"],
                test_size=options["test_size"],
                seed=options["seed"],
            )
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        split = "stratified by matter" if report.stratified else "not stratified"
        self.stdout.write(
            f"cases: {report.n_cases} (of {report.n_closed} closed)\n"
            f"matters: {report.n_matters}\n"
            f"held-out cases: {report.n_test} ({split})\n"
            f"held-out top-1 accuracy: {report.accuracy_top1:.1%}\n"
            f"held-out top-3 accuracy: {report.accuracy_top3:.1%}"
        )
        self.stdout.write(self.style.SUCCESS(f"Model saved to {report.path}"))
