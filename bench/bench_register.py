"""bench: the register's pages and selectors on the full demo street (~70,000 households,
~200,000 residents, issue 3), as a grid worker of the most populous grid and as the
dispatcher of the most populous community sees them.

Each figure is the median of ROUNDS runs in ms, printed as a ratio to a reference measured
in the same run: for selectors, a bare ORM fetch of 50 resident rows of the same grids;
for pages, the /healthz view through the same test client (the cost of a request with
no work). The query count of one run and the p95 are in the note. A page whose URL name
does not exist yet is skipped with a note.
"""

import statistics
import time
from collections.abc import Callable

from bench.common import report

NEEDS_DEMO_DATABASE = True
ROUNDS = 30
WARM_UP = 2
PAGES = [
    ("people:home", "my grid"),
    ("people:residents", "residents"),
    ("people:overdue", "overdue"),
]


def timed(fn: Callable[[], object]) -> tuple[float, float, int]:
    """Median and p95 in ms over ROUNDS runs, and the queries of one run."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARM_UP):
        fn()
    with CaptureQueriesContext(connection) as queries:
        fn()
    # Counted now: the captured list is a slice of the connection's log, which the next
    # request clears.
    n_queries = len(queries)
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    p95 = statistics.quantiles(times, n=20)[-1]
    return statistics.median(times), p95, n_queries


def busiest_viewers():
    """The grid worker of the unit grid with the most residents, and the dispatcher of the
    community with the most (households in a micro-grid count for its grid)."""
    from django.db.models import Count

    from linli.accounts.models import User
    from linli.areas.models import Area
    from linli.people.models import Resident

    by_area = dict(
        Resident.objects.values_list("household__grid_id").annotate(n=Count("id")).order_by()
    )
    areas = {a.pk: a for a in Area.objects.filter(pk__in=by_area)}
    grids: dict[int, int] = {}
    communities: dict[str, int] = {}
    for area_id, n in by_area.items():
        area = areas[area_id]
        grid_id = area.parent_id if area.level == Area.Level.MICROGRID else area.pk
        grids[grid_id] = grids.get(grid_id, 0) + n
        community = area.code[:12]
        communities[community] = communities.get(community, 0) + n
    grid_id = max(grids, key=grids.get)
    community = max(communities, key=communities.get)
    worker = User.objects.get(role="grid_worker", area_id=grid_id)
    dispatcher = User.objects.get(role="dispatcher", area__code=community)
    return (worker, grids[grid_id]), (dispatcher, communities[community])


def measure_viewer(label: str, viewer, people: int) -> None:
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from linli.people import selectors
    from linli.people.models import Resident

    grids = selectors.grid_ids_for(viewer)
    ref_ms, _p95, _q = timed(
        lambda: list(Resident.objects.filter(household__grid_id__in=grids)[:50])
    )
    ref_name = "bare ORM fetch of 50 residents of the same grids"
    who = f"{label} {viewer.username} ({people:,} residents)"

    for name, fn in [
        ("resident_list_for()[:50]", lambda: list(selectors.resident_list_for(viewer=viewer)[:50])),
        (
            "overdue_visits_for()[:50]",
            lambda: list(selectors.overdue_visits_for(viewer=viewer)[:50]),
        ),
    ]:
        median, p95, queries = timed(fn)
        report(
            f"{name}, {label}",
            median,
            "ms",
            ref_name,
            ref_ms,
            higher_is_better=False,
            note=f"p95 {p95:.1f} ms, {queries} queries; {who}",
        )

    client = Client()
    client.force_login(viewer)
    health_ms, _p95, _q = timed(lambda: client.get("/healthz"))
    for url_name, title in PAGES:
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            print(f"   skipped {url_name} ({title}): no such page yet", flush=True)
            continue
        response = client.get(url)
        if response.status_code != 200:
            print(f"   skipped {url_name}: answered {response.status_code}", flush=True)
            continue
        median, p95, queries = timed(lambda url=url: client.get(url))
        report(
            f"page {url_name} ({title}), {label}",
            median,
            "ms",
            "GET /healthz, same client",
            health_ms,
            higher_is_better=False,
            note=f"p95 {p95:.1f} ms, {queries} queries, {len(response.content) // 1024} KiB",
        )


def main() -> None:
    from linli.people.models import Household, Resident, Visit

    print(
        f"   demo register: {Household.objects.count():,} households, "
        f"{Resident.objects.count():,} residents, {Visit.objects.count():,} visits",
        flush=True,
    )
    # demo_build analyses the tables once written (the planner needs statistics); this
    # bench runs inside the build's database, so nothing more is needed here.
    (worker, grid_people), (dispatcher, community_people) = busiest_viewers()
    measure_viewer("grid worker", worker, grid_people)
    measure_viewer("community dispatcher", dispatcher, community_people)


if __name__ == "__main__":
    from bench.__main__ import with_demo_database
    from bench.common import setup_django

    setup_django()
    with_demo_database(main)
