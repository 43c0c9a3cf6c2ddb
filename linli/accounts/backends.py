from django.contrib.auth.backends import ModelBackend


def axes_username(request, credentials) -> str:
    return (credentials or {}).get("username", "")


class UsernameOrPhoneBackend(ModelBackend):
    pass
