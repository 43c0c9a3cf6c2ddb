"""/api/v1/notifications: the caller's own notifications, and marking them read. Another
user's notification answers 404 exactly as a missing one."""

from django.utils.translation import gettext as _
from ninja import Router
from ninja.errors import HttpError
from ninja.pagination import paginate

from linli.accounts.auth import token_auth
from linli.core.pagination import CursorPagination
from linli.core.schemas import ErrorOut, Id
from linli.notifications import selectors, services
from linli.notifications.schemas import NotificationOut, ReadAllOut

router = Router(tags=["notifications"], auth=token_auth)


@router.get("", response=list[NotificationOut], summary="The caller's notifications, newest first")
@paginate(CursorPagination)
def notification_list(request, unread: bool = False):
    """`unread=true` lists only those not yet read."""
    return selectors.notifications_for(user=request.user, unread=unread)


@router.post("/read-all", response=ReadAllOut, summary="Mark all the caller's notifications read")
def notifications_read_all(request):
    return {"marked": services.notifications_read_all(user=request.user)}


@router.post(
    "/{notification_id}/read",
    response={200: NotificationOut, 404: ErrorOut},
    summary="Mark one notification read",
)
def notification_read(request, notification_id: Id):
    notification = services.notification_read(user=request.user, pk=notification_id)
    if notification is None:
        raise HttpError(404, _("No such notification."))
    return notification
