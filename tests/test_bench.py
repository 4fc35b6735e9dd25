"""`make bench` keeps working: a tiny run prints both figures with their ratios."""

import json
import os
import subprocess
import sys

from django.conf import settings


def test_the_benchmark_runs_and_prints_one_json_line_per_figure():
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--lifecycles", "2", "--rounds", "1", "--pages", "1"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = {line["name"]: line for line in map(json.loads, result.stdout.splitlines())}
    assert set(figures) == {"lifecycle", "open_round", "matrix"}
    assert {"ms", "raw_ms", "viewflow_ms", "ratio", "vs_viewflow", "queries"} <= set(figures["lifecycle"])
    assert {"ms", "bulk_ms", "viewflow_ms", "ratio", "vs_viewflow"} <= set(figures["open_round"])
    assert figures["open_round"]["assignments"] == 42 * 13 + 4  # and the four sections' annual reports
    assert figures["matrix"]["assignments"] == figures["open_round"]["assignments"]
    assert {"ms", "list_ms", "ratio", "queries", "list_queries"} <= set(figures["matrix"])
