"""The command line as a user runs it: real processes, real files."""

import json
import subprocess
import sys

from locdetect_worker.results import ResultDocument
from tests.conftest import simple_plan_png


def _cli(*args, cwd=None, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "locdetect_worker.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


def test_detect_prints_one_valid_document_per_file(tmp_path):
    plan = tmp_path / "level 1.png"
    plan.write_bytes(simple_plan_png(rooms_across=3))
    result = _cli("detect", str(plan), "--overlay", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    document = ResultDocument.model_validate_json(line)
    assert document.status == "succeeded"
    assert document.job_id == "level 1"
    assert document.source.path == str(plan)
    assert len(document.rooms) == 6
    for room in document.rooms:
        x0, y0, x1, y1 = room.bbox
        assert 0 <= x0 < x1 <= 1200 and 0 <= y0 < y1 <= 900
        assert room.bbox_normalized == (
            round(1000 * x0 / 1200),
            round(1000 * y0 / 900),
            round(1000 * x1 / 1200),
            round(1000 * y1 / 900),
        )
    assert (tmp_path / "out" / "level 1.overlay.png").read_bytes().startswith(b"\x89PNG")


def test_detect_exits_1_and_reports_each_failure_in_order(tmp_path):
    good = tmp_path / "good.png"
    good.write_bytes(simple_plan_png())
    text = tmp_path / "text.png"
    text.write_text("not an image")
    result = _cli("detect", str(good), str(tmp_path / "missing.png"), str(text), "plan.docx")
    assert result.returncode == 1
    documents = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["status"] for d in documents] == ["succeeded", "failed", "failed", "failed"]
    assert [d["error"]["code"] for d in documents[1:]] == [
        "object_missing",
        "unsupported_format",
        "unsupported_format",
    ]


def test_every_command_has_help():
    for command in ("run", "detect", "local", "health", "eval", "replay"):
        result = _cli(command, "--help", timeout=60)
        assert result.returncode == 0, (command, result.stderr)
        assert "usage: locdetect-worker " + command in result.stdout


def test_run_without_queue_stops_with_a_message_naming_the_setting(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "locdetect_worker.cli", "run"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "LOCDETECT_CONCURRENCY": "3"},
    )
    assert result.returncode == 2
    assert "LOCDETECT_QUEUE_URL" in result.stderr


def test_parsing_the_command_line_loads_no_heavy_module():
    # `health` runs as a container health check every few seconds: it must not pay for
    # the detector, scipy or the AWS SDK, which only eval, replay, detect and run need.
    probe = (
        "import sys; from locdetect_worker.cli import build_parser; "
        "build_parser().parse_known_args(['health']); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'cv2', 'scipy', 'aioboto3'}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert loaded.stdout.strip() == "[]"
