"""linli's production settings, plus the bare reference view's URL. The database comes
from DATABASE_URL / LINLI_VAR_DIR as for any deployment."""

import os

os.environ.setdefault("SECRET_KEY", "linli-bench-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("LINLI_FIELD_KEY", "YmVuY2gtZmllbGQta2V5LTMyLWJ5dGVzLWxvbmctISE=")
os.environ.setdefault("LINLI_HTTPS", "0")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
# The benches post thousands of reports from one account and one address: each is still
# counted against both intake limits (their cost is part of the figure), never refused.
os.environ.setdefault("LINLI_INTAKE_RATE_PER_IP", "100000000/h")
os.environ.setdefault("LINLI_INTAKE_RATE_PER_ACCOUNT", "100000000/h")

from linli.settings import *  # noqa: E402,F403

ROOT_URLCONF = "bench.server.urls"
# Every request of a bench would otherwise fill the log.
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
