"""Bearer-token authentication for the JSON API: `Authorization: Bearer <token>`."""

import hashlib
from datetime import timedelta

from django.utils import timezone
from ninja.security import HttpBearer

from linli.accounts.models import ApiToken

# Writing last_used_at on every request would turn each read into a write; once every few
# minutes is enough to tell an administrator which tokens are alive.
LAST_USED_GRANULARITY = timedelta(minutes=5)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        if not token:
            return None
        now = timezone.now()
        api_token = (
            ApiToken.objects.select_related("user", "user__area", "user__department")
            .filter(key_hash=token_hash(token), revoked_at__isnull=True, expires_at__gt=now)
            .first()
        )
        if api_token is None or not api_token.user.is_active:
            return None
        if api_token.last_used_at is None or now - api_token.last_used_at > LAST_USED_GRANULARITY:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        request.user = api_token.user
        request.api_token = api_token
        return api_token.user


token_auth = TokenAuth()
