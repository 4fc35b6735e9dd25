"""Login lockout: after repeated failures for one account from one address, that pair waits a while."""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError


def lockout_message():
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return f"登录失败次数过多,此账号在本机的登录已暂停 {minutes} 分钟,请稍后再试或请管理员解除。"


class LockoutBackend(AxesStandaloneBackend):
    """Refuses every login of a locked (account, address) pair, before any password is checked.

    Only a login over HTTP has an address to count; code in this process that authenticates without a
    request (a test client's `login`, a shell) is neither counted nor locked.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


class LoginForm(AuthenticationForm):
    """Django's login form, saying why when the refusal is a lockout rather than a wrong password."""

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            if getattr(self.request, "axes_locked_out", False):
                raise ValidationError(lockout_message(), code="locked_out") from None
            raise


def lockout_response(request, response, credentials=None):
    """The login page as the form rendered it (with the lockout message), answered 429."""
    response.status_code = 429
    return response
