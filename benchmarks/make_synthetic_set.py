"""Write a varied set of synthetic plans with exact labels, for ``locdetect-worker eval``.

    python benchmarks/make_synthetic_set.py OUT_DIR [--count N] [--seed S] [--max-side PX]

Each plan is ``syn_<seed>.png`` with ``syn_<seed>.gt.png`` beside it (16-bit
PNG, 0 = no room, k = room k), the same layout as the CVC-FP development set.
Plan ``i`` uses seed ``S + i``, so a set is reproducible and can be extended.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import cv2

from locdetect_worker.synthetic import draw_style, generate_plan


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--max-side", type=int, default=4000, help="cap on the sheet's long side")
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    mix: Counter[str] = Counter()
    rooms = 0
    for seed in range(args.seed, args.seed + args.count):
        size = min(draw_style(seed)["size"], args.max_side)
        plan = generate_plan(seed, size=size)
        stem = args.out_dir / f"syn_{seed}"
        if not cv2.imwrite(f"{stem}.png", plan.image) or not cv2.imwrite(
            f"{stem}.gt.png", plan.labels
        ):
            raise RuntimeError(f"could not write {stem}.png / .gt.png")
        rooms += plan.rooms
        s = plan.style
        mix.update([f"wall={s['wall']}", f"colour={s['colour']}", f"footprint={s['footprint']}"])
        mix.update(
            ["rotated"] * (s["rotation_deg"] != 0) + ["jpeg"] * (s["jpeg_quality"] is not None)
        )
    summary = {
        "plans": args.count,
        "rooms": rooms,
        "seconds": round(time.perf_counter() - started, 1),
        "mix": dict(sorted(mix.items())),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
