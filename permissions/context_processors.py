from .checks import can_audit
from .roles import describe


def identity(request):
    """The signed-in person's unit and role, shown in the menu of every page, and what the menu offers."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"identity": describe(user), "can_audit": can_audit(user)}
