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


def room_seeds(free: np.ndarray, radii: list[float], min_dynamic: float, relative: float) -> np.ndarray:
    """(H, W) ``int32`` seed labels (0 = none, 1..n) of an (H, W) ``uint8`` free-space mask.

    ``radii`` are distance thresholds in px, decreasing. A hill is significant
    when its height above the merge saddle is at least
    ``max(min_dynamic, relative * hill height)``.
    """
    check_mask(free, "free")
    if not radii or sorted(radii, reverse=True) != list(radii) or min(radii) < 0:
        raise ValueError(f"radii must be non-negative and decreasing, got {radii}")
    distance = cv2.distanceTransform(free, cv2.DIST_L2, 3)
    seeds = np.zeros(free.shape, np.int32)
    birth: list[float] = [0.0]  # per node; node 0 unused
    seed_of: list[int] = [0]  # node -> active seed label (0 = frozen or virtual)
    previous = np.zeros(free.shape, np.int32)
    node_of_previous = np.zeros(1, np.int64)
    next_seed = 1
    for radius in radii:
        count, labels = cv2.connectedComponents((distance > radius).astype(np.uint8), connectivity=8)
        children = _children(labels, previous, node_of_previous, count)
        node_of = np.zeros(count, np.int64)
        grow = np.zeros(count, np.int32)  # component -> seed label to paint
        dropped: list[int] = []
        for comp in range(1, count):
            kids = children[comp]
            if not kids:
                node_of[comp] = len(birth)
                birth.append(radius)
                seed_of.append(next_seed)
                next_seed += 1
            elif len(kids) == 1:
                node_of[comp] = kids[0]
            else:
                strong = [k for k in kids if birth[k] - radius >= max(min_dynamic, relative * birth[k])]
                dropped.extend(seed_of[k] for k in kids if k not in strong and seed_of[k])
                if len(strong) == 1:
                    node_of[comp] = strong[0]
                else:  # several rooms meet here (freeze them) or none stands out (merge them)
                    for k in strong:
                        seed_of[k] = 0
                    node_of[comp] = len(birth)
                    birth.append(max(birth[k] for k in kids))
                    seed_of.append(0 if strong else next_seed)
                    next_seed += 0 if strong else 1
            grow[comp] = seed_of[node_of[comp]]
        if dropped:
            keep = np.ones(next_seed, bool)
            keep[dropped] = False
            seeds[~keep[seeds]] = 0
        painted = grow[labels]
        seeds = np.where(painted > 0, painted, seeds)
        previous, node_of_previous = labels, node_of
    return _renumber(seeds)


def _children(labels: np.ndarray, previous: np.ndarray, node_of_previous: np.ndarray,
              count: int) -> list[list[int]]:
    """Per current component, the distinct tree nodes of the previous level inside it.

    Every previous component lies inside one current one (cuts only grow as
    the radius falls), so one pixel of each tells where it went.
    """
    flat = previous.ravel()
    where = np.flatnonzero(flat)[::-1]
    first = np.zeros(len(node_of_previous), np.int64)
    first[flat[where]] = where  # the last write wins: each label's first pixel
    children: list[list[int]] = [[] for _ in range(count)]
    parents = labels.ravel()[first[1:]]
    for old, comp in enumerate(parents, start=1):
        node = int(node_of_previous[old])
        if node not in children[comp]:
            children[comp].append(node)
    return children


def _renumber(seeds: np.ndarray) -> np.ndarray:
    present = np.unique(seeds)
    lookup = np.zeros(int(present.max()) + 1, np.int32)
    lookup[present] = np.arange(len(present), dtype=np.int32)  # 0 stays 0
    return lookup[seeds]
