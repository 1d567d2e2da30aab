"""The torch networks behind the built-in models: ``linear``, ``fcnn`` and ``tree_dnn``.

Each network maps standardised features to one output per class (classification) or per
target (regression). ``build_network`` rebuilds the same shapes from a saved config, so
that a state dict saved by one process loads in another.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class LinearNetwork(nn.Module):
    """One affine map: linear regression, or logistic regression through the loss."""

    def __init__(self, num_inputs: int, num_outputs: int) -> None:
        super().__init__()
        self.linear = nn.Linear(num_inputs, num_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map a batch of features to outputs."""
        return self.linear(x)


def mlp_layers(
    num_inputs: int, hidden_units: list[int], dropout: float, normalization: str
) -> tuple[nn.Sequential, int]:
    """Hidden blocks of linear, normalisation, ReLU and dropout; also their output width."""
    layers: list[nn.Module] = []
    width = num_inputs
    for units in hidden_units:
        layers.append(nn.Linear(width, units))
        if normalization == "batch":
            layers.append(nn.BatchNorm1d(units))
        elif normalization == "layer":
            layers.append(nn.LayerNorm(units))
        layers.append(nn.ReLU())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = units
    return nn.Sequential(*layers), width


class FullyConnectedNetwork(nn.Module):
    """A multilayer perceptron with normalisation and dropout between its layers."""

    def __init__(
        self,
        num_inputs: int,
        num_outputs: int,
        hidden_units: list[int],
        dropout: float,
        normalization: str,
    ) -> None:
        super().__init__()
        self.hidden, width = mlp_layers(num_inputs, hidden_units, dropout, normalization)
        self.head = nn.Linear(width, num_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map a batch of features to outputs."""
        return self.head(self.hidden(x))


class SoftTreeEnsemble(nn.Module):
    """Soft decision trees of equal depth whose routing is learnt.

    Every inner node sends a row left with probability ``sigmoid(w·x + b)``; a leaf's
    weight is the product of the probabilities on its path, and a tree's output is the
    weighted sum of its leaf values. The ensemble averages its trees.
    """

    def __init__(self, num_inputs: int, num_outputs: int, num_trees: int, depth: int) -> None:
        super().__init__()
        self.num_trees = num_trees
        self.depth = depth
        num_inner = 2**depth - 1
        num_leaves = 2**depth

        self.routing = nn.Linear(num_inputs, num_trees * num_inner)
        self.leaves = nn.Parameter(torch.randn(num_trees, num_leaves, num_outputs) * 0.1)

    def leaf_probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """For each row and tree, the probability of reaching each leaf: (rows, trees, leaves)."""
        rows = x.shape[0]
        go_left = torch.sigmoid(self.routing(x)).view(rows, self.num_trees, -1)

        reach = x.new_ones(rows, self.num_trees, 1)
        for level in range(self.depth):
            first = 2**level - 1
            left = go_left[:, :, first : first + 2**level]
            children = torch.stack([reach * left, reach * (1 - left)], dim=-1)
            reach = children.reshape(rows, self.num_trees, 2 ** (level + 1))
        return reach

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map a batch of features to the trees' mean output."""
        reach = self.leaf_probabilities(x)
        outputs = torch.einsum("rtl,tlo->ro", reach, self.leaves)
        return outputs / self.num_trees


class TreeDNN(nn.Module):
    """Soft decision trees plus a fully connected branch, their outputs summed."""

    def __init__(
        self,
        num_inputs: int,
        num_outputs: int,
        num_trees: int,
        depth: int,
        hidden_units: list[int],
        dropout: float,
    ) -> None:
        super().__init__()
        self.trees = SoftTreeEnsemble(num_inputs, num_outputs, num_trees, depth)
        self.fc = FullyConnectedNetwork(num_inputs, num_outputs, hidden_units, dropout, "none")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map a batch of features to outputs."""
        return self.trees(x) + self.fc(x)


def build_network(
    model: str, num_inputs: int, num_outputs: int, config: dict[str, Any]
) -> nn.Module:
    """The untrained network of ``model`` for a resolved config."""
    if model == "linear":
        return LinearNetwork(num_inputs, num_outputs)
    if model == "fcnn":
        return FullyConnectedNetwork(
            num_inputs,
            num_outputs,
            list(config["hidden_units"]),
            float(config["dropout"]),
            config["normalization"],
        )
    if model == "tree_dnn":
        return TreeDNN(
            num_inputs,
            num_outputs,
            int(config["num_trees"]),
            int(config["depth"]),
            list(config["hidden_units"]),
            float(config["dropout"]),
        )
    raise ValueError(f"no network is built for model {model!r}")
