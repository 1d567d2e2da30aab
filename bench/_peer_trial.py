"""One short trial of the peers benchmark: a ridge regression fitted by gradient descent.

The same function runs in-process under joblib and Ray Tune, and as an executor task when
this file is the task's command (it reads ``alpha`` and ``seed`` from its config).
"""

from __future__ import annotations

import numpy as np

ROWS, FEATURES, STEPS = 2000, 50, 400


def fit(alpha: float, seed: int) -> float:
    """Fit a ridge regression on a seeded synthetic problem; return the training MSE."""
    generator = np.random.default_rng(seed)
    x = generator.normal(size=(ROWS, FEATURES))
    truth = generator.normal(size=FEATURES)
    y = x @ truth + 0.5 * generator.normal(size=ROWS)

    weights = np.zeros(FEATURES)
    step = 0.1
    for _ in range(STEPS):
        gradient = x.T @ (x @ weights - y) / ROWS + alpha * weights
        weights -= step * gradient
    return float(np.mean((x @ weights - y) ** 2))


def main() -> None:
    """Run as an executor task: read the config, fit, report the MSE."""
    import executor

    info = executor.get_info(requires_data=False)
    mse = fit(float(info.kwargs["alpha"]), int(info.kwargs["seed"]))
    executor.report({"mse": mse})


if __name__ == "__main__":
    main()
