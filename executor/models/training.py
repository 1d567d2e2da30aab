"""The training loop of the torch models: mini-batches, a chosen optimizer, early stopping.

Early stopping watches the loss on validation rows (``x_cv``, or a held-out part of the
training rows) and restores the weights of the best epoch.
"""

from __future__ import annotations

import copy
import inspect
import logging
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as functional
from torch import nn

from ..errors import ConfigError
from .config import DEFAULT_LEARNING_RATES, TrainingSettings

logger = logging.getLogger(__name__)

MIN_ROWS_TO_HOLD_OUT = 20
"""Below this many training rows, no validation rows are held out (nothing to stop on)."""

PREDICT_CHUNK = 8192

OPTIMIZER_CLASSES: dict[str, type[torch.optim.Optimizer]] = {
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
}


@dataclass
class Rows:
    """Training or validation rows, preprocessed: features, targets and optional weights."""

    x: np.ndarray
    y: np.ndarray
    weights: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def take(self, indices: np.ndarray) -> Rows:
        """The rows at ``indices``."""
        weights = None if self.weights is None else self.weights[indices]
        return Rows(self.x[indices], self.y[indices], weights)


@dataclass
class TrainingSummary:
    """How a training run went, saved in the pipeline's description."""

    seed: int
    device: str
    validation: str
    epochs_run: int
    best_epoch: int
    best_validation_loss: float | None
    stopped_early: bool
    seconds: float

    def to_json(self) -> dict[str, Any]:
        """The summary as plain JSON."""
        return asdict(self)


def hold_out(rows: Rows, fraction: float, task_type: str, seed: int) -> tuple[Rows, Rows | None]:
    """Split off ``fraction`` of the rows for validation (stratified by class)."""
    if fraction <= 0 or len(rows) < MIN_ROWS_TO_HOLD_OUT:
        return rows, None

    generator = np.random.default_rng(seed)
    groups = [np.flatnonzero(rows.y == label) for label in np.unique(rows.y)]
    if task_type != "clf":
        groups = [np.arange(len(rows))]

    held: list[np.ndarray] = []
    for group in groups:
        count = int(round(len(group) * fraction))
        if count and count < len(group):
            held.append(generator.permutation(group)[:count])
    if not held:
        return rows, None

    validation_indices = np.sort(np.concatenate(held))
    keep = np.ones(len(rows), dtype=bool)
    keep[validation_indices] = False
    return rows.take(np.flatnonzero(keep)), rows.take(validation_indices)


def check_optimizer_config(name: str, optimizer_config: dict[str, Any]) -> None:
    """Raise :class:`ConfigError` naming any option the optimizer ``name`` does not take."""
    optimizer_class = OPTIMIZER_CLASSES[name]
    accepted = sorted(set(inspect.signature(optimizer_class).parameters) - {"params"})
    unknown = sorted(set(optimizer_config) - set(accepted))
    if unknown:
        raise ConfigError(
            f"unknown optimizer_config key {unknown[0]!r} for optimizer {name!r}",
            unknown=unknown,
            known=accepted,
        )


def make_optimizer(
    name: str, parameters: Any, optimizer_config: dict[str, Any]
) -> torch.optim.Optimizer:
    """The optimizer ``name`` over ``parameters``; an unknown option is a ConfigError."""
    check_optimizer_config(name, optimizer_config)
    options = {"lr": DEFAULT_LEARNING_RATES[name], **optimizer_config}
    if name == "sgd" and "momentum" not in optimizer_config:
        options["momentum"] = 0.9
    try:
        return OPTIMIZER_CLASSES[name](parameters, **options)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"bad optimizer_config for {name!r}: {error}", **options) from None


def batch_loss(
    outputs: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor | None, task_type: str
) -> torch.Tensor:
    """Cross entropy (classification) or squared error (regression), weighted per row."""
    if task_type == "clf":
        losses = functional.cross_entropy(outputs, targets, reduction="none")
    else:
        losses = ((outputs - targets) ** 2).mean(dim=1)
    if weights is None:
        return losses.mean()
    return (losses * weights).sum() / weights.sum().clamp_min(1e-12)


def predict_outputs(network: nn.Module, x: np.ndarray, device: str) -> torch.Tensor:
    """The network's raw outputs for preprocessed features, on the CPU, in eval mode."""
    network.eval()
    chunks: list[torch.Tensor] = []
    with torch.no_grad():
        for start in range(0, x.shape[0], PREDICT_CHUNK):
            batch = torch.from_numpy(x[start : start + PREDICT_CHUNK]).to(device)
            chunks.append(network(batch).float().cpu())
    return torch.cat(chunks)


def train_network(
    network: nn.Module,
    train: Rows,
    validation: Rows | None,
    settings: TrainingSettings,
    task_type: str,
    device: str,
) -> TrainingSummary:
    """Train ``network`` in place and return how it went."""
    started = time.perf_counter()
    network.to(device)
    optimizer = make_optimizer(settings.optimizer, network.parameters(), settings.optimizer_config)
    tensors = _to_tensors(train, device)
    generator = torch.Generator().manual_seed(settings.seed)

    best_loss: float | None = None
    best_epoch = 0
    best_state: dict[str, torch.Tensor] | None = None
    stopped_early = False
    epoch = 0

    for epoch in range(1, settings.num_epochs + 1):
        _run_epoch(network, optimizer, tensors, settings.batch_size, task_type, generator)
        if validation is None:
            continue

        loss = validation_loss(network, validation, task_type, device)
        if best_loss is None or loss < best_loss - 1e-4 * abs(best_loss):
            best_loss, best_epoch = loss, epoch
            best_state = copy.deepcopy(network.state_dict())
        elif settings.patience is not None and epoch - best_epoch >= settings.patience:
            stopped_early = True
            break

    if best_state is not None and settings.patience is not None:
        network.load_state_dict(best_state)
    network.eval()

    summary = TrainingSummary(
        seed=settings.seed,
        device=device,
        validation="none" if validation is None else "given",
        epochs_run=epoch,
        best_epoch=best_epoch if validation is not None else epoch,
        best_validation_loss=best_loss,
        stopped_early=stopped_early,
        seconds=round(time.perf_counter() - started, 4),
    )
    logger.debug("trained on %s: %s", device, summary)
    return summary


def validation_loss(network: nn.Module, rows: Rows, task_type: str, device: str) -> float:
    """The mean loss over validation rows."""
    outputs = predict_outputs(network, rows.x, device)
    targets = torch.from_numpy(rows.y)
    weights = None if rows.weights is None else torch.from_numpy(rows.weights)
    return float(batch_loss(outputs, targets, weights, task_type))


def _to_tensors(rows: Rows, device: str) -> tuple[torch.Tensor, ...]:
    x = torch.from_numpy(rows.x).to(device)
    y = torch.from_numpy(rows.y).to(device)
    if rows.weights is None:
        return (x, y)
    return (x, y, torch.from_numpy(rows.weights).to(device))


def _run_epoch(
    network: nn.Module,
    optimizer: torch.optim.Optimizer,
    tensors: tuple[torch.Tensor, ...],
    batch_size: int,
    task_type: str,
    generator: torch.Generator,
) -> None:
    network.train()
    rows = tensors[0].shape[0]
    order = torch.randperm(rows, generator=generator).to(tensors[0].device)

    for start in range(0, rows, batch_size):
        indices = order[start : start + batch_size]
        if len(indices) == 1 and batch_size > 1:
            # A batch of one row breaks batch normalisation; the row is seen next epoch.
            continue

        batch = [tensor[indices] for tensor in tensors]
        weights = batch[2] if len(batch) == 3 else None
        loss = batch_loss(network(batch[0]), batch[1], weights, task_type)

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
