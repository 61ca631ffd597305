"""Detector speed and memory on plans of 1, 3, 10 and 40 megapixels, in one run.

    python benchmarks/bench_detector.py [--repeat N] [--sizes 1,3,10,40] [--seed S] [--plans N]
                                        [--images DIR]

For each size ``--plans`` synthetic plans (locdetect_worker.synthetic, seeds
``seed`` .. ``seed + plans - 1``) are drawn at that many pixels and encoded as
PNG; with ``--images DIR`` the first ``--plans`` pictures in DIR (by name,
label images ``*.gt.png`` left out) are scaled to that many pixels instead, to
time your own scans. For each plan, a fresh process (so peak memory is its own) decodes it with
``decode_pages`` and runs ``detect_rooms`` ``--repeat`` times on one core
(OpenCV threads = 1), timed in the process's CPU time: on one thread that is
the time on one core, and it does not count the waits while other work shares
the machine (wall times there varied by 25% from run to run). Plans differ a
lot in speed (rotated ones pay for the turn), so one plan says little. Printed
per size: the median over plans of each plan's median decode and detect time,
the ratio of those two (the target is detect <= 4 x decode at 3 MP), the worst
plan's ratio, the rooms found per plan, and the resident memory before decoding
and at its peak (the largest over plans; the target is < 2 GB at 40 MP). Above
``MANY_PLANS_UP_TO`` megapixels only the first plan is measured: a 40 MP run
takes seconds per repeat and matters for its memory, which depends on the page
size, not the drawing. The last line is the same table as JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ASPECT = math.sqrt(2)
MANY_PLANS_UP_TO = 10  # megapixels; larger pages are measured on one plan


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per size (median)")
    parser.add_argument("--sizes", default="1,3,10,40", help="megapixels, comma-separated")
    parser.add_argument("--seed", type=int, default=5, help="first plan's seed")
    parser.add_argument("--plans", type=int, default=5, help="plans per size (seeds from --seed)")
    parser.add_argument("--images", type=Path, help="scale these pictures instead of drawing plans")
    args = parser.parse_args(argv)
    sizes = [float(s) for s in args.sizes.split(",")]
    context = multiprocessing.get_context("spawn")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for megapixels in sizes:
            count = args.plans if megapixels <= MANY_PLANS_UP_TO else 1
            sources: list[int | Path] = (
                list(_pictures(args.images, count))
                if args.images
                else list(range(args.seed, args.seed + count))
            )
            plans = []
            for number, source in enumerate(sources):
                path = Path(folder) / f"plan_{megapixels:g}mp_{number}.png"
                _write_plan(path, megapixels, source)
                with context.Pool(1) as pool:
                    plans.append(pool.apply(_measure, (str(path), args.repeat)))
                path.unlink()
            row = _summary(megapixels, [str(source) for source in sources], plans)
            rows.append(row)
            print(
                f"{megapixels:>5g} MP {row['width']}x{row['height']} x {count} plans:"
                f"  decode {row['decode_ms']:8.1f} ms  detect {row['detect_ms']:8.1f} ms"
                f"  ratio {row['ratio']:5.2f} (worst {row['worst_ratio']:5.2f})"
                f"  rooms {','.join(str(n) for n in row['rooms'])}"
                f"  rss {row['rss_before_mb']:6.0f} MB  peak {row['peak_rss_mb']:6.0f} MB",
                flush=True,
            )
    print(json.dumps(rows))
    return 0


def _summary(megapixels: float, sources: list[str], plans: list[dict]) -> dict:
    """One size's row: medians over plans of their median times, the worst plan's ratio and
    the largest memory."""
    decode_ms = statistics.median(plan["decode_ms"] for plan in plans)
    detect_ms = statistics.median(plan["detect_ms"] for plan in plans)
    return {
        "megapixels": megapixels,
        "width": plans[0]["width"],
        "height": plans[0]["height"],
        "plans": sources,
        "decode_ms": round(decode_ms, 1),
        "detect_ms": round(detect_ms, 1),
        "ratio": round(detect_ms / decode_ms, 2),
        "worst_ratio": round(max(plan["detect_ms"] / plan["decode_ms"] for plan in plans), 2),
        "plan_ratios": [round(plan["detect_ms"] / plan["decode_ms"], 2) for plan in plans],
        "rooms": [plan["rooms"] for plan in plans],
        "rss_before_mb": max(plan["rss_before_mb"] for plan in plans),
        "peak_rss_mb": max(plan["peak_rss_mb"] for plan in plans),
    }


def _pictures(folder: Path, count: int) -> list[Path]:
    pictures = sorted(
        path
        for path in folder.iterdir()
        if path.suffix.lower() in {".png", ".jpg", ".jpeg", ".tif", ".tiff"}
        and not path.name.endswith(".gt.png")
    )
    if not pictures:
        raise SystemExit(f"no pictures in {folder}")
    return pictures[:count]


def _write_plan(path: Path, megapixels: float, source: int | Path) -> None:
    """A synthetic plan (an int seed) drawn at ``megapixels``, or a picture scaled to it."""
    import cv2

    from locdetect_worker.synthetic import generate_plan

    if isinstance(source, Path):
        picture = cv2.imread(str(source), cv2.IMREAD_UNCHANGED)
        if picture is None:
            raise SystemExit(f"cannot read {source}")
        scale = math.sqrt(megapixels * 1e6 / (picture.shape[0] * picture.shape[1]))
        image = cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    else:
        long_side = int(round(math.sqrt(megapixels * 1e6 * ASPECT)))
        image = generate_plan(source, size=long_side, aspect=ASPECT).image
    if not cv2.imwrite(str(path), image):
        raise RuntimeError(f"could not write {path}")


def _measure(path: str, repeat: int) -> dict:
    """In a fresh process: one plan's median decode and detect times on one core, and peak
    RSS."""
    os.environ["OMP_NUM_THREADS"] = "1"
    import cv2

    from locdetect_worker.decode import DecodeLimits, decode_pages
    from locdetect_worker.detector import detect_rooms

    cv2.setNumThreads(1)
    data = Path(path).read_bytes()
    before = _rss_mb()
    decode_times, detect_times = [], []
    rooms = height = width = 0
    for _ in range(repeat):
        started = time.process_time()
        image = decode_pages(data, DecodeLimits())[0]
        decoded = time.process_time()
        rooms = len(detect_rooms(image))
        detect_times.append(time.process_time() - decoded)
        decode_times.append(decoded - started)
        height, width = image.shape[:2]
        del image
    decode_ms = statistics.median(decode_times) * 1000
    detect_ms = statistics.median(detect_times) * 1000
    return {
        "width": width,
        "height": height,
        "decode_ms": decode_ms,
        "detect_ms": detect_ms,
        "rooms": rooms,
        "rss_before_mb": round(before, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


if __name__ == "__main__":
    sys.exit(main())
