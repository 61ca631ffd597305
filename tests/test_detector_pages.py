"""The detector keeps freed page-sized buffers for reuse (glibc only): see detector/_pages.py."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

# In a fresh process: the page faults of a plan's second detection (the first one's freed
# buffers are there to reuse).
SECOND_RUN = """
import resource
from locdetect_worker.detector import detect_rooms
from locdetect_worker.synthetic import generate_plan

page = generate_plan(1, size=1400).image
detect_rooms(page)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
detect_rooms(page)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)
def test_a_second_detection_reuses_the_first_ones_pages() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SECOND_RUN], capture_output=True, text=True, check=True
    )
    # with glibc's default thresholds about 5000 fresh pages are faulted in
    assert int(done.stdout) < 500
