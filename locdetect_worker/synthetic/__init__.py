"""Synthetic floor plans with exact room ground truth, for tests, benchmarks and demos.

``generate_plan(seed, **style)`` draws a building (rectangular or L footprint,
split into rectangular and L-shaped rooms and corridors, every room reachable
through doors), inks it in one of several drawing styles with the usual
distractors, and returns the picture with its label image.
"""

from locdetect_worker.synthetic.plan import SyntheticPlan, generate_plan
from locdetect_worker.synthetic.style import draw_style

__all__ = ["SyntheticPlan", "draw_style", "generate_plan"]
