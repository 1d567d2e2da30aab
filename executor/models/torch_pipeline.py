"""The pipeline of the built-in torch models: ``linear``, ``fcnn`` and ``tree_dnn``.

Its saved form is the network's state dict (``torch.save``, loaded back with
``weights_only=True``) beside the JSON description, from which the network is rebuilt.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import ModelNotFoundError
from .config import TrainingSettings, resolve_config
from .devices import resolve_device
from .networks import build_network
from .pipeline import Pipeline
from .preprocessing import Preprocessing, infer_task_type
from .training import Rows, check_optimizer_config, hold_out, predict_outputs, train_network

logger = logging.getLogger(__name__)

WEIGHTS_FILE = "weights.pt"


class TorchPipeline(Pipeline):
    """A built-in torch model with its preprocessing."""

    kind = "torch"

    def __init__(self, model: str, config: dict[str, Any]) -> None:
        super().__init__(model, resolve_config(model, config))
        check_optimizer_config(self.config["optimizer"], self.config["optimizer_config"])
        self.network: torch.nn.Module | None = None
        self.device = "cpu"

    def _fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        validation: tuple[np.ndarray, np.ndarray] | None,
        weights: np.ndarray | None,
    ) -> None:
        task_type = self.config["task_type"] or infer_task_type(y)
        seed = self.config["seed"] if self.config["seed"] is not None else secrets.randbelow(2**31)
        preprocessing = Preprocessing.fit(x, y, task_type, standardise_target=True)

        rows = Rows(
            preprocessing.transform_features(x),
            preprocessing.encode_target(y, rows=x.shape[0]),
            None if weights is None else weights.astype(np.float32),
        )
        held: Rows | None
        if validation is not None:
            cv_x, cv_y = validation
            held = Rows(
                preprocessing.transform_features(cv_x, name="x_cv"),
                preprocessing.encode_target(cv_y, rows=cv_x.shape[0], name="y_cv"),
            )
            source = "x_cv"
        else:
            rows, held = hold_out(rows, self.config["validation_fraction"], task_type, seed)
            source = "none" if held is None else "held_out"

        num_outputs = (
            len(preprocessing.classes) if preprocessing.classes is not None else y.shape[1]
        )
        device = resolve_device(self.config["device"])
        settings = TrainingSettings.from_config(self.config, seed)

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            network = build_network(
                self.model, preprocessing.num_features, num_outputs, self.config
            )
            summary = train_network(network, rows, held, settings, task_type, device)
        summary.validation = source

        self.network = network
        self.device = device
        self.task_type = task_type
        self.preprocessing = preprocessing
        self.num_outputs = num_outputs
        self.training = summary.to_json()
        logger.info(
            "trained %s (%s) for %d epochs on %s", self.model, task_type, summary.epochs_run, device
        )

    def _predict_encoded(self, features: np.ndarray) -> np.ndarray:
        outputs = predict_outputs(self._network(), features, self.device)
        if self.task_type == "clf":
            return outputs.argmax(dim=1).numpy()
        return outputs.numpy()

    def _predict_probabilities(self, features: np.ndarray) -> np.ndarray:
        outputs = predict_outputs(self._network(), features, self.device)
        return torch.softmax(outputs, dim=1).numpy().astype(np.float64)

    def _save_artifacts(self, folder: Path) -> None:
        state = {
            name: tensor.detach().cpu() for name, tensor in self._network().state_dict().items()
        }
        temporary = folder / f".{WEIGHTS_FILE}.tmp"
        torch.save(state, temporary)
        os.replace(temporary, folder / WEIGHTS_FILE)

    def _artifact_files(self) -> dict[str, str]:
        return {"weights": WEIGHTS_FILE}

    def _versions(self) -> dict[str, str]:
        return {"torch": torch.__version__.split("+")[0], "numpy": np.__version__}

    @classmethod
    def from_saved(cls, folder: Path, description: dict[str, Any]) -> TorchPipeline:
        """Rebuild the network from the description and load its weights on the CPU."""
        pipeline = cls(description["model"], description["config"])
        pipeline.restore_common(description)

        network = build_network(
            pipeline.model,
            int(description["num_features"]),
            pipeline.num_outputs,
            pipeline.config,
        )
        weights_name = Path(description.get("files", {}).get("weights", WEIGHTS_FILE)).name
        weights_file = folder / weights_name
        if not weights_file.is_file():
            raise ModelNotFoundError(
                "the saved pipeline has no weights file", path=str(weights_file)
            )
        state = torch.load(weights_file, map_location="cpu", weights_only=True)
        network.load_state_dict(state)
        network.eval()
        pipeline.network = network
        return pipeline

    def _network(self) -> torch.nn.Module:
        assert self.network is not None, "a fitted torch pipeline has a network"
        return self.network
