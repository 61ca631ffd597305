"""Free space -> room seeds: the significant maxima of the distance to the walls.

Each room is a hill of the free space's distance transform; rooms joined by a
doorway or opening meet at a saddle as low as half the opening. Thresholding
the distance at falling radii builds the hills' merge tree: a hill is a room
when it stands at least ``h`` above the saddle where it meets a neighbour
(its "dynamic"), so corner bumps and furniture dents merge away while rooms
behind a doorway stay apart. Each seed is the hill's largest cut before it
merges, so flooding from it later needs to decide only the doorway.
"""

from __future__ import annotations

import cv2
import numpy as np

from locdetect_worker.detector._checks import check_mask
from locdetect_worker.detector._components import kept_labels, label_areas, label_runs


def block_seeds(
    free: np.ndarray, radii: list[float], min_dynamic: float, relative: float
) -> np.ndarray:
    """(ceil(H / 2), ceil(W / 2)) ``int32`` seed labels (0 = none, 1..n) of an (H, W) ``uint8``
    mask (1 = free), one per 2 x 2 block of it, as :func:`grow.grow_seeds` floods from them.

    The tree is built (:func:`room_seeds`) on a grid twice as coarse, where a block is free
    only if all of it is, which is enough for cores and much cheaper. The erosion centres its
    window, so that grid sits half a block off: each of its blocks ends on the top left px of
    the page's block that takes its seed, so a seeded block holds a free px (no block of wall
    gets a seed, with no masking). ``radii`` and ``min_dynamic`` are in px of the page.
    """
    check_mask(free, "free")
    small = cv2.erode(free, np.ones((2, 2), np.uint8))[::2, ::2]
    return room_seeds(small, [r / 2 for r in radii], min_dynamic / 2, relative)


def room_seeds(
    free: np.ndarray, radii: list[float], min_dynamic: float, relative: float
) -> np.ndarray:
    """(H, W) ``int32`` seed labels (0 = none, 1..n) of an (H, W) ``uint8`` mask, 1 = free.

    ``radii`` are distance thresholds in px, decreasing. A hill is significant
    when its height above the merge saddle is at least
    ``max(min_dynamic, relative * hill height)``.
    """
    check_mask(free, "free")
    if not radii or sorted(radii, reverse=True) != list(radii) or min(radii) < 0:
        raise ValueError(f"radii must be non-negative and decreasing, got {radii}")
    distance = cv2.distanceTransform(free, cv2.DIST_L2, 3)
    seeds: np.ndarray = np.zeros(free.shape, np.int32)
    # The tree's few nodes are kept in lists: numpy's calls cost more than a loop over them.
    birth = [0.0]  # per tree node; node 0 unused
    seed_of = [0]  # node -> growing seed label, 0 = frozen or virtual
    previous_core = np.zeros(free.shape, np.uint8)
    labels: np.ndarray = np.empty(free.shape, np.int32)  # each cut's components
    node_of_previous = [0]  # per component of the cut before (label 0: outside it)
    pixel_of_previous = np.zeros(1, np.int64)  # a flat pixel index inside each component
    next_seed = 1
    # Seeds that stood too low are dropped at the end: none is painted again, and a merged
    # component painted wholly covers the ones it took in.
    dropped: list[int] = []
    for radius in map(float, radii):  # births in float64 whatever the radii's type
        core = np.greater(distance, radius).view(np.uint8)
        ring = np.flatnonzero(core > previous_core)  # the pixels new at this radius
        if not ring.size:
            continue  # the same cut as before: nothing can change
        # Grana's block-based labelling, a little faster here than the default, same labels;
        # written over the cut before's (read no more), sooner than into a fresh image
        count, labels = cv2.connectedComponentsWithAlgorithm(
            core, 8, cv2.CV_32S, cv2.CCL_GRANA, labels=labels
        )
        flat = labels.ravel()
        # every component of the cut before lies inside one of this cut (cuts only grow as
        # the radius falls), so one pixel of each tells which
        holders = flat[pixel_of_previous[1:]]
        children: dict[int, list[int]] = {}  # component -> the tree nodes it took in
        for comp, node in zip(holders.tolist(), node_of_previous[1:]):
            children.setdefault(comp, []).append(node)
        pixel_of = np.zeros(count, np.int64)
        pixel_of[holders] = pixel_of_previous[1:]
        ring_labels: np.ndarray = np.take(flat, ring)
        born = [comp for comp in range(1, count) if comp not in children]
        if len(born) == count - 1:  # no component before it: every pixel is new
            pixel_of[ring_labels] = ring
        elif born:  # such a component lies in the ring
            is_born = np.zeros(count, bool)
            is_born[born] = True
            newborn = np.flatnonzero(is_born[ring_labels])
            pixel_of[ring_labels[newborn]] = ring[newborn]
        node_of = [0] * count
        for comp in born:
            node_of[comp] = len(birth)
            birth.append(radius)
            seed_of.append(next_seed)
            next_seed += 1
        merging: list[int] = []
        for comp, mine in sorted(children.items()):
            if len(mine) == 1:
                node_of[comp] = mine[0]
                continue
            merging.append(comp)
            strong = [k for k in mine if birth[k] - radius >= max(min_dynamic, relative * birth[k])]
            dropped.extend(seed_of[k] for k in mine if k not in strong and seed_of[k])
            if len(strong) == 1:
                node_of[comp] = strong[0]
                continue
            # several rooms meet here (freeze them) or none stands out (merge them into one)
            for k in strong:
                seed_of[k] = 0
            node_of[comp] = len(birth)
            birth.append(max(birth[k] for k in mine))
            seed_of.append(0 if strong else next_seed)
            next_seed += 0 if strong else 1
        # Each component with a seed is painted with it: a merged one wholly, the others
        # only on their new pixels, as the rest holds that seed from the level before.
        paint = np.array([seed_of[node] for node in node_of], np.int32)
        for comp in merging:
            if paint[comp]:
                seeds[labels == comp] = paint[comp]
        seeds.ravel()[ring] = np.take(paint, ring_labels)
        previous_core, node_of_previous, pixel_of_previous = core, node_of, pixel_of
    runs = label_runs(seeds)  # read once for the areas and the renumbering
    kept = label_areas(seeds, next_seed, runs)[1:] > 0
    kept[np.array(dropped, np.int64) - 1] = False
    return kept_labels(seeds, kept, runs)
