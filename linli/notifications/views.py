"""The notification list and marking notifications read. Every signed-in user has one;
nobody sees another's (their ids answer 404)."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from linli.notifications import selectors, services
from linli.notifications.registry import render as render_message

PAGE_SIZE = 50


def _shown(notification):
    notification.title, notification.body = render_message(notification)
    return notification


def _page(request: HttpRequest, unread: bool, number=None):
    rows = selectors.notifications_for(user=request.user, unread=unread)
    page = Paginator(rows, PAGE_SIZE).get_page(number)
    page.object_list = [_shown(n) for n in page.object_list]
    return page


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    unread = request.GET.get("unread") == "1"
    context = {"page": _page(request, unread, request.GET.get("page")), "unread": unread}
    template = "notifications/list.html#rows" if request.htmx else "notifications/list.html"
    return render(request, template, context)


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Marks it read, then follows its link (or, with "stay", returns to the list). htmx
    gets the row back, read, and the navigation badge anew."""
    notification = services.notification_read(user=request.user, pk=pk)
    if notification is None:
        raise Http404
    if request.htmx:
        context = {"notification": _shown(notification), "oob": True}
        return render(request, "notifications/list.html#read", context)
    link = notification.link
    safe = url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()})
    if link and safe and not request.POST.get("stay"):
        return redirect(link)
    return redirect("notifications:list")


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    services.notifications_read_all(user=request.user)
    if request.htmx:
        context = {"page": _page(request, unread=False), "unread": False, "oob": True}
        return render(request, "notifications/list.html#read_all", context)
    return redirect("notifications:list")
