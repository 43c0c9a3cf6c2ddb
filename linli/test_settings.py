"""Settings for the test suite: production settings with fast hashing, no HTTPS redirect,
and fixed throw-away keys."""

import os

os.environ.setdefault("SECRET_KEY", "linli-test-secret-key-not-for-production-0123456789abcdef")
# 32 bytes of URL-safe base64, for tests only.
os.environ.setdefault("LINLI_FIELD_KEY", "dGVzdC1maWVsZC1rZXktMzItYnl0ZXMtbG9uZy0hISE=")
os.environ.setdefault("LINLI_HTTPS", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

from linli.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The locmem cache is per process, which django-ratelimit warns about; tests run in one.
SILENCED_SYSTEM_CHECKS = [
    *SILENCED_SYSTEM_CHECKS,  # noqa: F405
    "django_ratelimit.E003",
    "django_ratelimit.W001",
]
LINLI_SMS_BACKEND = "linli.accounts.sms.LocmemSmsBackend"
LINLI_GRID_INDEX_TTL_SECONDS = 0
LINLI_CATALOGUE_TTL_SECONDS = 0
# Overrides are read once per calendar call, so query counts do not depend on timing.
LINLI_WORKCAL_TTL_SECONDS = 0
# Serve static files through the finders, without scanning a collected STATIC_ROOT.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
