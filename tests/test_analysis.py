import numpy as np
import pytest

from locdetect_worker.analysis import analyse_blueprint, room_models
from locdetect_worker.decode import DecodeLimits
from locdetect_worker.detector import DetectedRoom
from locdetect_worker.errors import JobError
from tests.conftest import make_pdf, pdf_plan_stream, simple_plan_png


def test_room_models_give_ids_edges_boxes_and_areas():
    square = DetectedRoom(np.array([[100, 50], [300, 50], [300, 250], [100, 250]], np.int32), 0.91)
    triangle = DetectedRoom(np.array([[0, 0], [40, 0], [0, 30]], np.int32), 1.7)
    rooms = room_models([square, triangle], page=2, width=400, height=500, first_index=4)
    assert [r.id for r in rooms] == ["room_005", "room_006"]
    first = rooms[0]
    assert first.page == 2
    assert first.bbox == (100, 50, 300, 250)
    assert first.bbox_normalized == (250, 100, 750, 500)
    assert first.area_px == 40000.0
    assert [(line.start, line.end) for line in first.lines][-1] == ((100, 250), (100, 50))
    assert len(first.lines) == 4
    assert rooms[1].confidence == 1.0  # clipped into 0..1
    assert rooms[1].area_px == 600.0


def test_multi_page_pdf_numbers_rooms_across_pages():
    pdf = make_pdf([pdf_plan_stream(), pdf_plan_stream()])
    analysis = analyse_blueprint(pdf, DecodeLimits())
    assert analysis.image.pages == 2
    assert analysis.image.width == 1250  # 600 pt at 150 dpi
    pages = [room.page for room in analysis.rooms]
    assert pages.count(1) == pages.count(2) == 4
    assert [room.id for room in analysis.rooms] == [f"room_{i:03d}" for i in range(1, 9)]
    assert analysis.overlay_png.startswith(b"\x89PNG")


def test_image_over_pixel_limit_is_refused():
    with pytest.raises(JobError) as error:
        analyse_blueprint(simple_plan_png(), DecodeLimits(max_pixels=1000))
    assert error.value.code == "image_too_large"
