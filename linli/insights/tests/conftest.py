from linli.cases.tests.conftest import catalogue, departments, english, matter  # noqa: F401
