"""One log line per request, and the request's id on every record logged while it is answered.

The id comes from the proxy's `X-Request-ID` when it is well formed (nginx's `$request_id`: 32 hex
digits), else it is made here; it goes back in the response's `X-Request-ID` and, through a context
variable, onto every log record (`%(request_id)s`), so an action's line can be found from its request's.
A line names the method, the path (never the query string or the body), the status, the time taken in
milliseconds, the user's id and the request id: never what anyone wrote.
"""

import logging
import re
import time
import uuid
from contextvars import ContextVar

logger = logging.getLogger("duban.requests")

NO_REQUEST = "-"
request_id = ContextVar("request_id", default=NO_REQUEST)
WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{8,64}")

_make_record = logging.getLogRecordFactory()


def _record_with_request_id(*args, **kwargs):
    record = _make_record(*args, **kwargs)
    record.request_id = request_id.get()
    return record


# Set when the logging configuration loads this module (LOGGING's filter), so that every record, whichever
# handler takes it, carries the id of the request it was made in.
if getattr(_make_record, "__name__", "") != _record_with_request_id.__name__:
    logging.setLogRecordFactory(_record_with_request_id)


class RequestIdFilter(logging.Filter):
    """Gives a record made before the factory was set (or by another one) a request id too."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


def incoming_id(request):
    offered = request.META.get("HTTP_X_REQUEST_ID", "")
    return offered if WELL_FORMED.fullmatch(offered) else uuid.uuid4().hex


def user_id(request):
    user = getattr(request, "user", None)  # set by the authentication middleware (or DRF) if it ran
    return str(user.pk) if user is not None and user.is_authenticated else NO_REQUEST


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rid = incoming_id(request)
        token = request_id.set(rid)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = rid
            elapsed = (time.monotonic() - started) * 1000
            level = logging.DEBUG if request.path_info == "/healthz" and response.status_code == 200 else logging.INFO
            logger.log(
                level, "%s %s %s %.0fms user=%s", request.method, request.path, response.status_code, elapsed,
                user_id(request),
            )  # fmt: skip
            return response
        finally:
            request_id.reset(token)
