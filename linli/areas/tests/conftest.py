import pytest

from linli.areas import geo


@pytest.fixture(autouse=True)
def fresh_grid_index():
    """The index is per process; each test's database starts anew, so must the index
    (otherwise a test that raises the re-check interval sees the previous test's grids)."""
    geo._state.update(index=None, version=None, checked=0.0)
    yield
    geo._state.update(index=None, version=None, checked=0.0)
