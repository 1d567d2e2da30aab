"""Data bundles: arrays dumped once under ``<root>/__data__/``, addressed by their content.

The same arrays dumped twice reuse one folder. A bundle is written into a temporary folder
and renamed into place under a file lock, so a reader never sees half of one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .contract import CONTRACT_VERSION, RootLayout, now_iso, write_json_atomic
from .errors import DataError
from .task_api import BUNDLE_PARTS

logger = logging.getLogger(__name__)

BUNDLE_MARKER = "__bundle__.json"


def _as_array(name: str, value: Any, *, labels: bool) -> np.ndarray:
    try:
        array = np.asarray(value)
    except Exception as error:  # numpy raises many kinds for ragged input
        raise DataError(f"{name} cannot be turned into an array: {error}", input=name) from None

    if array.dtype == object:
        raise DataError(
            f"{name} has dtype object; expected numbers (or strings for labels)", input=name
        )
    if not labels and array.dtype.kind not in "biuf":
        raise DataError(f"{name} has dtype {array.dtype}; expected numbers", input=name)
    if labels and array.dtype.kind not in "biufUS":
        raise DataError(f"{name} has dtype {array.dtype}; expected numbers or strings", input=name)

    if labels and array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2:
        raise DataError(f"{name} must be 2-D, got shape {array.shape}", input=name)
    if array.shape[0] == 0:
        raise DataError(f"{name} has no rows", input=name)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        what = "labels" if labels else "features"
        raise DataError(f"{name} holds NaN or infinite {what}", input=name)
    return array


def validate_arrays(
    x: Any, y: Any, x_cv: Any = None, y_cv: Any = None
) -> dict[str, np.ndarray | None]:
    """Check shapes and types of a bundle's arrays; return them as 2-D numpy arrays."""
    if x is None or y is None:
        raise DataError(
            "both x and y are needed to make a data bundle", input="x" if x is None else "y"
        )
    if (x_cv is None) != (y_cv is None):
        missing = "y_cv" if y_cv is None else "x_cv"
        raise DataError("x_cv and y_cv must be given together", input=missing)

    arrays: dict[str, np.ndarray | None] = {
        "x": _as_array("x", x, labels=False),
        "y": _as_array("y", y, labels=True),
        "x_cv": None if x_cv is None else _as_array("x_cv", x_cv, labels=False),
        "y_cv": None if y_cv is None else _as_array("y_cv", y_cv, labels=True),
    }

    for features, labels in (("x", "y"), ("x_cv", "y_cv")):
        left, right = arrays[features], arrays[labels]
        if left is not None and right is not None and left.shape[0] != right.shape[0]:
            raise DataError(
                f"{features} has {left.shape[0]} rows but {labels} has {right.shape[0]}",
                input=labels,
            )

    x_array, x_cv_array = arrays["x"], arrays["x_cv"]
    assert x_array is not None
    if x_cv_array is not None and x_cv_array.shape[1] != x_array.shape[1]:
        raise DataError(
            f"x_cv has {x_cv_array.shape[1]} columns but x has {x_array.shape[1]}", input="x_cv"
        )
    y_array, y_cv_array = arrays["y"], arrays["y_cv"]
    assert y_array is not None
    if y_cv_array is not None and y_cv_array.shape[1] != y_array.shape[1]:
        raise DataError(
            f"y_cv has {y_cv_array.shape[1]} columns but y has {y_array.shape[1]}", input="y_cv"
        )
    return arrays


def fingerprint_arrays(arrays: dict[str, np.ndarray | None]) -> str:
    """A SHA-256 of the arrays' names, dtypes, shapes and bytes."""
    digest = hashlib.sha256()
    for name in BUNDLE_PARTS:
        array = arrays.get(name)
        if array is None:
            digest.update(f"{name}:none;".encode())
            continue
        contiguous = np.ascontiguousarray(array)
        digest.update(f"{name}:{contiguous.dtype.str}:{contiguous.shape};".encode())
        digest.update(contiguous.tobytes())
    return digest.hexdigest()


def dump_bundle(layout: RootLayout, x: Any, y: Any, x_cv: Any = None, y_cv: Any = None) -> Path:
    """Write a data bundle under the root (once) and return its folder."""
    from filelock import FileLock

    arrays = validate_arrays(x, y, x_cv, y_cv)
    digest = fingerprint_arrays(arrays)
    folder = layout.data_dir / digest[:20]
    layout.data_dir.mkdir(parents=True, exist_ok=True)

    with FileLock(str(layout.data_dir / f".{digest[:20]}.lock")):
        if (folder / BUNDLE_MARKER).is_file():
            logger.debug("reusing data bundle %s", folder)
            return folder

        staging = Path(tempfile.mkdtemp(prefix=".bundle-", dir=layout.data_dir))
        try:
            for name, array in arrays.items():
                if array is not None:
                    np.save(staging / f"{name}.npy", array, allow_pickle=False)
            shapes = {name: list(a.shape) for name, a in arrays.items() if a is not None}
            marker = {"contract_version": CONTRACT_VERSION, "sha256": digest, "shapes": shapes}
            write_json_atomic(staging / BUNDLE_MARKER, marker | {"created_at": now_iso()})
            if folder.exists():
                shutil.rmtree(folder)  # a torn bundle from a crash: it has no marker
            os.replace(staging, folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    logger.info("dumped data bundle %s (%s)", folder, shapes)
    return folder


def check_bundle(layout: RootLayout, data_folder: str | os.PathLike[str]) -> str:
    """Check that ``data_folder`` is a bundle inside the root; return it relative to the root."""
    folder = Path(data_folder)
    if not folder.is_absolute():
        candidate = layout.root / folder
        folder = candidate if candidate.exists() else folder.absolute()

    if not (folder / "x.npy").is_file():
        raise DataError(
            "the data folder is not a bundle (no x.npy); make one with dump_data_bundle",
            data_folder=str(data_folder),
        )
    try:
        relative = folder.resolve().relative_to(layout.root.resolve())
    except ValueError:
        raise DataError(
            "the data folder is not inside this experiment's root; dump it with this "
            "experiment's dump_data_bundle",
            data_folder=str(data_folder),
            root=str(layout.root),
        ) from None
    return relative.as_posix()
