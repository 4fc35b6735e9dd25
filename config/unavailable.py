"""When the database cannot be reached (a restart, a failover, a dropped connection), answer 503 in words.

Django turns `OperationalError` and `InterfaceError` into a 500 with a traceback page (or, with DEBUG off,
the bare error page). Both say "broken" where the truth is "try again shortly": the middleware answers
503 with `Retry-After` instead, in JSON under /api/ and as a Chinese page elsewhere. The connection that
failed is closed when the request ends (Django finds it unusable), so the next request connects afresh.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse

from .errors import api_error, is_api

logger = logging.getLogger("duban.requests")

DETAIL = "数据库暂时无法连接,请稍后再试。"
RETRY_AFTER = "30"
PAGE = """<!doctype html>
<html lang="zh-hans"><head><meta charset="utf-8"><title>暂时无法服务 · 督办</title></head>
<body><h1>暂时无法服务</h1><p>{detail}您刚才的操作没有完成,请稍候刷新页面重试。</p></body></html>
"""
UNAVAILABLE = (OperationalError, InterfaceError)


def unavailable(request):
    """The 503 answer: the API's error body under /api/, a page that touches nothing (no template, no database)
    elsewhere."""
    if is_api(request):
        response = api_error(503, "unavailable", DETAIL)
    else:
        response = HttpResponse(PAGE.format(detail=DETAIL), status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = RETRY_AFTER
    return response


class DatabaseUnavailableMiddleware:
    """A view (or the API) whose database went away mid-request answers 503, not a traceback."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, UNAVAILABLE):
            return None
        logger.warning("database unavailable: %s %s: %s", request.method, request.path, type(exception).__name__)
        return unavailable(request)
