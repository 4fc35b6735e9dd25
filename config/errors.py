"""Under /api/, the refusals Django makes itself (before or outside DRF), in the API's own JSON shape; elsewhere, the
page refusals with their reason."""

import sys

from django.conf import settings
from django.core.exceptions import (
    DisallowedHost,
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import JsonResponse
from django.views import defaults

API_PREFIX = "/api/"


def is_api(request):
    return request.path_info.startswith(API_PREFIX)


def api_error(status, code, detail):
    """The API's error body, `{"code", "detail"}`, as DRF's exception handler writes it."""
    return JsonResponse({"code": code, "detail": detail}, status=status, json_dumps_params={"ensure_ascii": False})


def too_large():
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return api_error(413, "too_large", f"请求体超过了 {limit / 1024 / 1024:g} MiB 的上限。")


def too_many_fields():
    return api_error(400, "malformed", "请求中的字段或文件过多。")


class ApiErrorMiddleware:
    """First in the chain, so a bad Host or an oversized body is refused in JSON before anything reads it.

    DRF reads a JSON body from the stream itself, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE check, so
    the declared length is checked here. Multipart uploads are left to the attachment size limit.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_api(request):
            return self.get_response(request)
        try:
            request.get_host()
        except DisallowedHost:
            return api_error(400, "invalid", "请求的主机名不在本站允许的范围内。")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and not request.content_type.startswith("multipart/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return api_error(400, "malformed", "请求头 Content-Length 不是一个数。")
            if length > limit:
                return too_large()
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_api(request):
            return None
        if isinstance(exception, RequestDataTooBig):
            return too_large()
        if isinstance(exception, (TooManyFieldsSent, TooManyFilesSent)):
            return too_many_fields()
        return None


# Django's error views (handler400 … handler500 in config.urls): JSON under /api/, the usual pages elsewhere.


def bad_request(request, exception):
    if is_api(request):
        return api_error(400, "malformed", "请求无法解析。")
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if is_api(request):
        return api_error(403, "forbidden", "没有权限执行此操作。")
    if not str(exception):  # viewflow refuses a page's application without a word: say why, as the application does
        extra = getattr(getattr(request.resolver_match, "url_name", None), "extra", {})
        if refusal := getattr(extra.get("app"), "refusal", ""):
            exception = PermissionDenied(refusal)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    if is_api(request):
        return api_error(404, "not_found", "没有这个接口。")
    return defaults.page_not_found(request, exception)


def server_error(request):
    from .unavailable import UNAVAILABLE, unavailable

    if isinstance(sys.exception(), UNAVAILABLE):  # the database went away before a view ran (a middleware's query)
        return unavailable(request)
    if is_api(request):
        return api_error(500, "error", "服务器内部出错,已记录,请稍后再试。")
    return defaults.server_error(request)
