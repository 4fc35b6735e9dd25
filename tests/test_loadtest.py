"""`make loadtest` keeps working: a few users for a few seconds on SQLite print every figure, without an error."""

import json
import os
import re
import subprocess

from django.conf import settings

from tests.test_production import collected_static  # noqa: F401 (the session's collected static files)

KINDS = {
    *("inbox", "open", "start", "upload", "submit", "review desk", "begin_review", "accept"),
    *("matrix", "list", "export ledger", "history search", "export history"),
}
FIGURES = {"name", "requests", "errors", "p50", "p95", "p99"}


def test_the_load_test_serves_the_days_work_without_errors_and_leaves_a_verified_history(tmp_path):
    environment = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "DEBUG"}}
    environment.update(LOADTEST_SECONDS="3", LOADTEST_USERS="8", LOADTEST_THINK="0.05", TMPDIR=str(tmp_path))
    environment.update(WEB_CONCURRENCY="2")  # two server processes start sooner than five
    done = subprocess.run(
        ["make", "--no-print-directory", "loadtest"], cwd=settings.BASE_DIR, env=environment, capture_output=True,
        text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    figures = {line["name"]: line for line in map(json.loads, re.findall(r"^\{.*\}$", done.stdout, re.M))}
    kinds = set(figures) - {"saturation", "verify_history", "replay", "states"}
    assert {"inbox", "open", "total"} <= kinds <= KINDS | {"total"}, sorted(figures)
    for name in kinds:
        assert set(figures[name]) == FIGURES and figures[name]["errors"] == 0, figures[name]
        assert 0 < figures[name]["p50"] <= figures[name]["p95"] <= figures[name]["p99"]
    assert figures["total"]["requests"] == sum(figures[name]["requests"] for name in kinds - {"total"})
    assert figures["saturation"]["rps"] > 0 and figures["saturation"]["healthz_rps"] > 0
    assert figures["saturation"]["errors"] == 0
    assert figures["verify_history"]["intact"] and figures["replay"]["mismatches"] == 0
    assert figures["states"]["assigned"] < figures["replay"]["assignments"]  # the users' work was done
    assert not list(tmp_path.glob("duban-load-*"))  # the database, media and static folders are removed


def test_collectstatic_writes_gzip_copies_only_although_the_load_generators_client_brings_brotli(request):
    import brotli  # noqa: F401 (installed with locust: WhiteNoise would otherwise compress every file with it)

    collected = request.getfixturevalue("collected_static")
    assert list(collected.rglob("*.css.gz")) and not list(collected.rglob("*.br"))
