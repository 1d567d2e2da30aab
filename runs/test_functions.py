"""A task that evaluates a standard optimisation test function at the point of its config.

Run it as a task's ``run_command`` (``python runs/test_functions.py``). Its config names
the function (``"function": "branin"`` or ``"hartmann6"``) and gives the coordinates
``x1, x2`` (Branin) or ``x1 .. x6`` (Hartmann-6); it reports ``{"value": f(x)}``. Both
functions are minimised: Branin's minimum is 0.397887, Hartmann-6's is -3.32237.

With ``"fail": true`` in its config the task fails on purpose, for tests.
"""

from __future__ import annotations

import math
import sys

import executor

BRANIN_MINIMUM = 0.397887
HARTMANN6_MINIMUM = -3.32237

_HARTMANN6_ALPHA = (1.0, 1.2, 3.0, 3.2)
_HARTMANN6_A = (
    (10, 3, 17, 3.5, 1.7, 8),
    (0.05, 10, 17, 0.1, 8, 14),
    (3, 3.5, 1.7, 10, 17, 8),
    (17, 8, 0.05, 10, 0.1, 14),
)
_HARTMANN6_P = (
    (0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886),
    (0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991),
    (0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650),
    (0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381),
)


def branin(x1: float, x2: float) -> float:
    """Branin-Hoo on x1 in [-5, 10], x2 in [0, 15]; three global minima of 0.397887."""
    b = 5.1 / (4 * math.pi**2)
    c = 5 / math.pi
    t = 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def hartmann6(*xs: float) -> float:
    """Hartmann-6 on [0, 1]^6; global minimum -3.32237."""
    total = 0.0
    for alpha, a_row, p_row in zip(_HARTMANN6_ALPHA, _HARTMANN6_A, _HARTMANN6_P, strict=True):
        inner = sum(a * (x - p) ** 2 for a, x, p in zip(a_row, xs, p_row, strict=True))
        total -= alpha * math.exp(-inner)
    return total


SPACES = {
    "branin": {"x1": (-5.0, 10.0), "x2": (0.0, 15.0)},
    "hartmann6": {f"x{index}": (0.0, 1.0) for index in range(1, 7)},
}


def evaluate(config: dict) -> float:
    """The value of the function the config names at the config's point."""
    name = config.get("function", "branin")
    if name not in SPACES:
        raise ValueError(f"unknown test function {name!r}; known: {sorted(SPACES)}")
    point = [float(config[key]) for key in SPACES[name]]
    return branin(*point) if name == "branin" else hartmann6(*point)


def main() -> int:
    info = executor.get_info(requires_data=False)
    if info.kwargs.get("fail"):
        executor.report_failure("asked to fail by its config")
        return 1

    value = evaluate(info.kwargs)
    executor.report({"value": value})
    return 0


if __name__ == "__main__":
    sys.exit(main())
