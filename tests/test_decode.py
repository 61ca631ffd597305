"""The decoder refuses hostile input by its header, before it costs memory or time."""

import cv2
import numpy as np
import pytest

from locdetect_worker.decode import DecodeLimits, content_type_for, decode_pages
from locdetect_worker.errors import JobError
from tests import hostile
from tests.conftest import simple_plan_png


def refused(data: bytes, limits: DecodeLimits | None = None) -> JobError:
    with pytest.raises(JobError) as caught:
        decode_pages(data, limits or DecodeLimits())
    return caught.value


def test_zero_bytes_fail_to_decode():
    assert refused(b"").code == "decode_failed"


def test_text_named_png_is_not_an_image():
    error = refused(hostile.TEXT_NAMED_PNG)
    assert error.code == "unsupported_format"
    assert "Level 2 plan" in error.message


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.95])
def test_truncated_png_fails_to_decode(keep):
    assert refused(hostile.truncated(simple_plan_png(), keep)).code == "decode_failed"


def test_header_claiming_50000_squared_is_refused_before_decoding():
    error = refused(hostile.png_claiming(50_000, 50_000))
    assert error.code == "image_too_large"
    assert "50000x50000" in error.message


def test_real_decompression_bomb_is_refused_by_its_header():
    bomb = hostile.png_bomb(11_000)  # 121 M pixels in ~130 KiB
    assert len(bomb) < 300_000
    assert refused(bomb).code == "image_too_large"
    assert decode_pages(hostile.png_bomb(500), DecodeLimits())[0].shape == (500, 500, 3)


def test_pdf_without_pages_fails_to_decode():
    error = refused(hostile.pdf_without_pages())
    assert error.code == "decode_failed"
    assert "pages" in error.message


def test_encrypted_pdf_fails_with_its_reason():
    import pypdfium2 as pdfium

    data = hostile.encrypted_pdf(user_password=b"secret")
    assert len(pdfium.PdfDocument(data, password="secret")) == 1  # genuinely encrypted, valid
    error = refused(data)
    assert error.code == "decode_failed"
    assert "encrypted" in error.message


def test_pdf_pages_share_one_pixel_budget():
    limits = DecodeLimits(max_pixels=2_000_000)
    pages = decode_pages(hostile.pdf_with_pages([(2000, 2000)] * 4), limits)
    assert len(pages) == 4
    assert sum(page.shape[0] * page.shape[1] for page in pages) <= 2_000_000 * 1.01
    small = decode_pages(hostile.pdf_with_pages([(72, 144)]), limits)[0]
    assert small.shape == (300, 150, 3)  # under the budget: rendered at 150 dpi


def test_too_many_pdf_pages_are_refused():
    error = refused(hostile.pdf_with_pages([(100, 100)] * 3), DecodeLimits(max_pdf_pages=2))
    assert error.code == "image_too_large"


def test_unknown_extension_is_refused():
    with pytest.raises(JobError) as caught:
        content_type_for("blueprints/plan.xyz")
    assert caught.value.code == "unsupported_format"
    assert content_type_for("a/B.PDF") == "application/pdf"


def test_sixteen_bit_and_transparent_images_become_bgr8():
    deep = np.zeros((3, 4), np.uint16)
    deep[0, 0] = 65535
    page = decode_pages(cv2.imencode(".png", deep)[1].tobytes(), DecodeLimits())[0]
    assert page.dtype == np.uint8 and page.shape == (3, 4, 3)
    assert page[0, 0].tolist() == [255, 255, 255] and page[1, 1].tolist() == [0, 0, 0]

    rgba = np.zeros((2, 2, 4), np.uint8)  # black ink, fully transparent except one pixel
    rgba[0, 0, 3] = 255
    page = decode_pages(cv2.imencode(".png", rgba)[1].tobytes(), DecodeLimits())[0]
    assert page[0, 0].tolist() == [0, 0, 0]
    assert page[1, 1].tolist() == [255, 255, 255]
