"""Cold start of a function in a fresh process: import, first request, max RSS."""

import pytest

from bench.coldstart import line, measure, measure_all
from shared.manifest import FunctionSpec, HttpRoute

pytestmark = [pytest.mark.load, pytest.mark.process]  # every test starts a fresh python

_MAIN = """
import time
from shared.http import Response
time.sleep(0.05)
def app(request):
    return Response(status=201 if request.path == "/things/coldstart" else 404)
"""


def test_a_function_from_a_folder(tmp_path):
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "main.py").write_text(_MAIN)
    spec = FunctionSpec("thing", "fn/main.main", (HttpRoute("GET", "/things/{id}"),))
    row = measure(spec, tmp_path)
    assert row["error"] is None, row
    assert row["status"] == 201
    assert row["import_s"] >= 0.05
    assert row["total_s"] >= row["import_s"] + row["first_request_s"]
    assert row["max_rss_mib"] > 5
    assert "thing" in line(row)


def test_a_broken_function_reports_its_error(tmp_path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "main.py").write_text("raise RuntimeError('boom at import')\n")
    row = measure(FunctionSpec("bad", "bad/main.main", (HttpRoute("GET", "/"),)), tmp_path)
    assert "boom at import" in str(row["error"])


def test_every_function_in_the_manifest():
    rows = measure_all("serverless.yml", ["status"])
    assert [row["function"] for row in rows] == ["status"]
    assert rows[0]["error"] is None and rows[0]["max_rss_mib"] > 5


def test_deployed_artefacts_of_both_targets() -> None:
    """One function built and started as Cloud Run and as OpenWhisk start it (the validation
    tests leave the virtualenvs in the cache, so this costs the starts)."""
    from bench.coldstart_artefacts import HEADING, markdown, measure

    targets = ("cloudrun", "openwhisk")
    rows = {target: measure(target, "serverless.yml", ["jwks"]) for target in targets}
    for target, (row,) in rows.items():
        assert row["error"] is None, row
        assert row["status"] == 200 and row["target"] == target
        assert row["total_s"] >= row["ready_s"] > 0 and row["max_rss_mib"] > 5
        assert row["artefact_kib"] > (10_000 if target == "openwhisk" else 50)
    section = markdown(rows)
    assert section[0] == HEADING and any("| jwks | openwhisk |" in line for line in section)
