from functools import cache

from linli.notifications.selectors import unread_count


def notifications(request):
    """`notifications_unread` for the navigation badge. A callable the template calls only
    when it draws the badge, at most once a request: JSON and pages without the
    navigation bar pay nothing."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notifications_unread": cache(lambda: unread_count(user=user))}
