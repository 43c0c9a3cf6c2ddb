"""A token login through the API (axes, throttle, Argon2, token write, audit) against one
bare Argon2 password check: what a sign-in costs beyond the hash itself."""

from bench.common import report

NEEDS_DEMO_DATABASE = False
ROUNDS = 30


def main() -> None:
    import time

    from django.contrib.auth.hashers import check_password, make_password
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import setup_test_environment, teardown_test_environment

    argon2 = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    with override_settings(PASSWORD_HASHERS=argon2, LINLI_LOGIN_RATE_PER_IP="100000/m"):
        setup_test_environment()
        old_name = connection.settings_dict["NAME"]
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            from linli.accounts.models import User

            password = "Bench-Login-2026"
            User.objects.create(username="bench", role="resident", password=make_password(password))
            client = Client()
            body = {"username": "bench", "password": password}
            start = time.perf_counter()
            for _ in range(ROUNDS):
                response = client.post("/api/v1/auth/token", body, content_type="application/json")
                assert response.status_code == 201, response.content
            logins = ROUNDS / (time.perf_counter() - start)

            hashed = make_password(password)
            start = time.perf_counter()
            for _ in range(ROUNDS):
                check_password(password, hashed)
            checks = ROUNDS / (time.perf_counter() - start)
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
            teardown_test_environment()
    report(
        "token login via POST /api/v1/auth/token",
        logins,
        "logins/s",
        "bare Argon2 check_password",
        checks,
    )
