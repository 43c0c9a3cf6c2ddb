"""Named personas and a small street shared by every app's tests (STYLE.md 17).

The street: district 370502 → street 370502003 → communities 001 and 002; community 001
has grids 001 and 002 side by side, community 002 has grid 001. Each grid is a square
0.01° on a side near Dongying.
"""

import pytest

from linli.accounts.models import Department, User
from linli.areas.models import Area, Building

PASSWORD = "Grid-work-2026"  # noqa: S105 - a test fixture


# The start of a day (so of every minute, hour and day window) plus one second.
RATE_CLOCK = 20833 * 86400 + 1.0


@pytest.fixture(autouse=True)
def still_rate_clock(monkeypatch):
    """The rate limits' fixed windows do not turn over in the middle of a test: a test
    that makes its requests across a minute's end would see its count start again."""
    monkeypatch.setattr("linli.core.ratelimits.clock", lambda: RATE_CLOCK)


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: rate-limit counts, one-time form tokens and
    cached lookups of one test must not reach the next (the locmem cache outlives tests)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded photos (and a trained matter suggester) go to a directory of the test's
    own, never to var/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LINLI_SUGGESTER_PATH = tmp_path / "models" / "matter_suggester.joblib"
    return settings.MEDIA_ROOT


def square(lon: float, lat: float, size: float = 0.01) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [
            [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
        ],
    }


@pytest.fixture
def street(db):
    district = Area.objects.create(level="district", code="370502", name="东营区")
    street = Area.objects.create(level="street", code="370502003", name="胜利街道", parent=district)
    c1 = Area.objects.create(level="community", code="370502003001", name="胜园社区", parent=street)
    c2 = Area.objects.create(level="community", code="370502003002", name="五一社区", parent=street)
    g11 = Area.objects.create(
        level="grid",
        code="370502003001001",
        name="胜园社区第1网格",
        parent=c1,
        geometry=square(118.60, 37.40),
    )
    g12 = Area.objects.create(
        level="grid",
        code="370502003001002",
        name="胜园社区第2网格",
        parent=c1,
        geometry=square(118.61, 37.40),
    )
    g21 = Area.objects.create(
        level="grid",
        code="370502003002001",
        name="五一社区第1网格",
        parent=c2,
        geometry=square(118.62, 37.40),
    )
    Building.objects.create(
        code="370502003001001-B01", name="1号楼", grid=g11, lon=118.605, lat=37.405
    )
    Building.objects.create(
        code="370502003002001-B01", name="1号楼", grid=g21, lon=118.625, lat=37.405
    )
    cg = Department.objects.create(code="CG", name="城管", area=street)
    return {
        "district": district,
        "street": street,
        "c1": c1,
        "c2": c2,
        "g11": g11,
        "g12": g12,
        "g21": g21,
        "dept": cg,
    }


def _user(username: str, role: str, **extra) -> User:
    user = User(username=username, role=role, name=username, **extra)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def resident(street):
    return _user("resident", "resident")


@pytest.fixture
def grid_worker(street):
    return _user("worker", "grid_worker", area=street["g11"])


@pytest.fixture
def other_grid_worker(street):
    return _user("worker2", "grid_worker", area=street["g21"])


@pytest.fixture
def community_worker(street):
    return _user("community", "dispatcher", area=street["c1"])


@pytest.fixture
def dispatcher(street):
    return _user("dispatcher", "dispatcher", area=street["street"])


@pytest.fixture
def handler(street):
    return _user("handler", "handler", department=street["dept"])


@pytest.fixture
def leader(street):
    return _user("leader", "leader", area=street["street"])


@pytest.fixture
def admin_user(street):
    return _user("admin", "admin", is_staff=True, is_superuser=True)


@pytest.fixture
def personas(resident, grid_worker, other_grid_worker, dispatcher, handler, leader, admin_user):
    return {
        "resident": resident,
        "grid_worker": grid_worker,
        "other_grid_worker": other_grid_worker,
        "dispatcher": dispatcher,
        "handler": handler,
        "leader": leader,
        "admin": admin_user,
    }
