"""`locdetect-worker local --demo` as a new user runs it: a real process, an embedded moto."""

import json
import subprocess
import sys
from importlib import resources

import pytest


@pytest.mark.slow
def test_demo_runs_every_sample_through_and_fills_the_outbox(tmp_path):
    samples = sorted(
        p.name.rsplit(".", 1)[0]
        for p in (resources.files("locdetect_worker") / "samples").iterdir()
        if p.name.endswith((".png", ".jpg"))
    )
    assert samples, "the package must ship sample plans"
    result = subprocess.run(
        [sys.executable, "-m", "locdetect_worker.cli", "local", "--demo", "--data", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for name in samples:
        document = json.loads((tmp_path / "outbox" / f"{name}.json").read_text())
        assert document["status"] == "succeeded"
        assert document["rooms"], name
        assert (tmp_path / "outbox" / f"{name}.overlay.png").read_bytes().startswith(b"\x89PNG")
        assert name in result.stdout  # the summary table lists every job
