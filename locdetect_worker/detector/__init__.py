"""The room detector: pure functions from a page image to room polygons.

Contract used by the rest of the package (and the inference container):
``detect_rooms(image) -> list[DetectedRoom]`` where ``image`` is a ``uint8``
array of shape (H, W, 3) BGR or (H, W) grey, and each room's polygon is an
(N, 2) ``int32`` array of (x, y) vertices in the input image's pixels.
No I/O happens here.
"""

from locdetect_worker.detector._pages import keep_freed_pages
from locdetect_worker.detector.model import DetectedRoom
from locdetect_worker.detector.rooms import detect_rooms

keep_freed_pages()  # a detection's page-sized temporaries are reused, not faulted in afresh

DETECTOR_NAME = "opencv-rooms"
DETECTOR_VERSION = "2.7.1"

__all__ = ["DETECTOR_NAME", "DETECTOR_VERSION", "DetectedRoom", "detect_rooms"]
