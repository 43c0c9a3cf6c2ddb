"""Sign-in, sign-up, profile and tokens. Thin: parse, call a service, render."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from linli.accounts import services
from linli.accounts.forms import (
    LoginForm,
    PasswordChangeForm,
    SignupCodeForm,
    SignupForm,
    TokenForm,
)
from linli.accounts.models import ApiToken
from linli.accounts.selectors import api_tokens_for, profile_for
from linli.core.audit import audit_record
from linli.core.errors import DomainError
from linli.core.forms import form_errors_add
from linli.core.ratelimits import login_limits, rate_limit_wait
from linli.core.views import rate_limited


def login_rate(group, request) -> str:
    """Read at request time, so that the setting can change without a restart of tests."""
    return settings.LINLI_LOGIN_RATE_PER_IP


def lockout_response(request, credentials, *args, **kwargs):
    """What django-axes answers once an account is locked."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _(
        "This account is locked after too many wrong passwords. Try again in %(minutes)d "
        "minutes or ask an administrator to unlock it."
    ) % {"minutes": minutes}
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "locked", "message": message, "fields": {}}, status=403)
    return render(
        request, "core/error.html", {"title": _("Account locked"), "detail": message}, status=403
    )


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        # Counted per address and per account named, with POST /api/v1/auth/token.
        wait = rate_limit_wait(request, login_limits(request.POST.get("username", "")))
        if wait is not None:
            return rate_limited(request, None, retry_after=wait)
        return super().post(request, *args, **kwargs)


class LogoutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]


@ratelimit(group="signup", key="ip", rate=login_rate, method="POST", block=True)
def signup(request: HttpRequest) -> HttpResponse:
    """Two steps on one page: ask for a code, then create the account with it."""
    code_form = SignupCodeForm(prefix="send")
    form = SignupForm()
    if request.method == "POST" and "send-phone" in request.POST:
        code_form = SignupCodeForm(request.POST, prefix="send")
        if code_form.is_valid():
            try:
                services.phone_code_send(phone=code_form.cleaned_data["phone"], request=request)
            except DomainError as exc:
                form_errors_add(code_form, exc, default="phone")
            else:
                messages.success(request, _("A code is on its way to your phone."))
                form = SignupForm(initial={"phone": code_form.cleaned_data["phone"]})
    elif request.method == "POST":
        form = SignupForm(request.POST)
        if form.is_valid():
            try:
                user = services.resident_signup(**form.cleaned_data, request=request)
            except DomainError as exc:
                form_errors_add(form, exc)
            else:
                login(request, user, backend="linli.accounts.backends.UsernameOrPhoneBackend")
                messages.success(request, _("Welcome! Your account is ready."))
                return redirect("home")
    return render(request, "accounts/signup.html", {"code_form": code_form, "form": form})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    context = {
        **profile_for(viewer=request.user),
        "tokens": api_tokens_for(viewer=request.user),
        "token_form": TokenForm(),
        "full_phone": None,
        "new_token": request.session.pop("linli_new_token", None),
    }
    return render(request, "accounts/profile.html", context)


@login_required
@require_POST
def phone_reveal(request: HttpRequest) -> HttpResponse:
    full = services.user_phone_reveal(user=request.user, viewer=request.user, request=request)
    context = {**profile_for(viewer=request.user), "full_phone": full}
    if request.htmx:
        return render(request, "accounts/profile.html#phone", context)
    return render(
        request,
        "accounts/profile.html",
        {**context, "tokens": api_tokens_for(viewer=request.user), "token_form": TokenForm()},
    )


@login_required
@require_POST
def token_issue(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    if form.is_valid():
        _token, raw = services.api_token_issue(
            user=request.user, name=form.cleaned_data["name"], request=request
        )
        # Shown once on the next page; never stored in clear anywhere else.
        request.session["linli_new_token"] = raw
    return redirect("accounts:profile")


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    services.api_token_revoke(token=token, actor=request.user, request=request)
    messages.success(request, _("The token is revoked."))
    return redirect("accounts:profile")


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        audit_record(action="user.password_change", actor=user, target=user, request=request)
        messages.success(request, _("Your password is changed."))
        return redirect("accounts:profile")
    return render(request, "accounts/password_change.html", {"form": form})
