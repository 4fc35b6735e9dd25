"""`/healthz`: is this server able to answer? For the proxy and the load balancer, asked often.

Answered before the host check, the HTTPS redirect, the session and the login (so a probe over plain
HTTP to the server's own address works and costs no session or user lookup): one `SELECT 1` and one
listing of the media storage's top folder. The body is "ok" (200) or "error" (503) and nothing more;
what failed goes to the log.
"""

import logging

from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpResponse

PATH = "/healthz"
logger = logging.getLogger("duban.health")


def database_reachable():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone() == (1,)


def media_reachable():
    default_storage.listdir("")
    return True


def healthy():
    for name, check in (("database", database_reachable), ("media", media_reachable)):
        try:
            if not check():
                logger.error("health: %s check failed", name)
                return False
        except Exception as error:  # noqa: BLE001 - any failure is an unhealthy answer, logged by its kind
            logger.error("health: %s unreachable: %s", name, type(error).__name__)
            return False
    return True


def answer():
    ok = healthy()
    response = HttpResponse("ok" if ok else "error", status=200 if ok else 503, content_type="text/plain")
    response["Cache-Control"] = "no-store"
    return response


class HealthMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == PATH and request.method in {"GET", "HEAD"}:
            return answer()
        return self.get_response(request)
