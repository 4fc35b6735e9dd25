from .notifications import unread_count


def notifications(request):
    """The count of unread notifications for the menu's badge: one query per page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": unread_count(user)}
