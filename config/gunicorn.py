"""gunicorn's settings for `make serve` (`gunicorn -c config/gunicorn.py config.wsgi`), from the environment.

WEB_CONCURRENCY: sync worker processes, by default two per core plus one, at most 12 (each holds a
database connection and answers one request at a time). BIND: where to listen, 127.0.0.1:8000 unless
set (the proxy in front talks to it). ACCESS_LOG: "-" for gunicorn's own access line on standard output,
with the request id, besides Django's request line; off by default.
"""

import os


def workers_for(cores):
    return min(2 * cores + 1, 12)


def env_int(name, default):
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


bind = os.environ.get("BIND", "") or "127.0.0.1:8000"
workers = env_int("WEB_CONCURRENCY", workers_for(os.cpu_count() or 1))
worker_class = "sync"
timeout = env_int("GUNICORN_TIMEOUT", 60)  # a request running longer is killed (and logged) by the arbiter
graceful_timeout = env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)  # on stop or reload, requests under way finish
keepalive = 5
max_requests = 2000  # workers are renewed now and then, a jitter apart, so none grows for ever
max_requests_jitter = 200
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = os.environ.get("ACCESS_LOG") or None
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = "duban"
