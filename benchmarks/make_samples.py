"""Write the demo plans shipped in ``locdetect_worker/samples/`` (run by hand, commit the files).

    python benchmarks/make_samples.py [--out DIR]

Four small, varied synthetic plans: a clean white sheet with solid walls, a
grey hatched scan with a slight skew, a blueprint (white lines on blue) with
double-line walls, and a skewed JPEG photocopy. Only plans go into the folder:
``locdetect-worker local --demo`` uploads every image it finds there.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import cv2

from locdetect_worker.synthetic import generate_plan

SAMPLES = Path(__file__).resolve().parent.parent / "locdetect_worker" / "samples"
MAX_BYTES = 400_000

_PLANS: dict[str, dict[str, Any]] = {
    "sample-house-solid.png": dict(
        seed=611,
        size=1600,
        aspect=1.414,
        wall="solid",
        colour="white",
        footprint="rect",
        furniture=True,
        text=True,
        dimensions=True,
        frame=True,
        stairs=False,
        rotation_deg=0.0,
        noise=0.0,
        jpeg_quality=None,
    ),
    "sample-l-hatched-scan.png": dict(
        seed=620,
        size=1500,
        aspect=1.333,
        wall="hatched",
        colour="grey",
        footprint="L",
        furniture=True,
        text=True,
        dimensions=False,
        frame=True,
        stairs=True,
        rotation_deg=1.8,
        noise=0.0,
        jpeg_quality=None,
    ),
    "sample-blueprint.png": dict(
        seed=605,
        roof=False,
        size=1400,
        aspect=1.5,
        wall="double",
        colour="blue",
        footprint="rect",
        furniture=False,
        text=True,
        dimensions=True,
        frame=True,
        stairs=False,
        rotation_deg=0.0,
        noise=0.0,
        jpeg_quality=None,
    ),
    "sample-photocopy.jpg": dict(
        seed=609,
        size=1800,
        aspect=1.414,
        wall="solid",
        colour="white",
        footprint="L",
        furniture=True,
        text=True,
        dimensions=True,
        frame=False,
        stairs=False,
        rotation_deg=-3.0,
        noise=8.0,
        jpeg_quality=None,
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SAMPLES)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, options in _PLANS.items():
        options = dict(options)
        plan = generate_plan(int(options.pop("seed")), **options)
        image = plan.image
        if options["colour"] != "blue":  # a grey sheet compresses three times better as grey
            image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        params = (
            [cv2.IMWRITE_JPEG_QUALITY, 70]
            if name.endswith(".jpg")
            else [cv2.IMWRITE_PNG_COMPRESSION, 9]
        )
        ok, data = cv2.imencode(Path(name).suffix, image, params)
        if not ok or len(data) > MAX_BYTES:
            raise RuntimeError(f"{name}: encoding failed or {len(data)} bytes > {MAX_BYTES}")
        (args.out / name).write_bytes(data.tobytes())
        print(
            f"{name}: {image.shape[1]}x{image.shape[0]} px, {plan.rooms} rooms, "
            f"{len(data) // 1000} KB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
