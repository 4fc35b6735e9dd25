from .roles import describe


def identity(request):
    """The signed-in person's unit and role, shown in the menu of every page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"identity": describe(user)}
