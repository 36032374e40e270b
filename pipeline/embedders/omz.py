"""``omz``: Intel Open Model Zoo person-reidentification-retail-0287 / -0288 (256-d), OpenVINO IR.

Input: BGR, 0-255, NCHW 1x3x256x128 as shipped; we reshape the model to a dynamic batch so every box of
a frame goes through in one call. Use the IR (.xml + .bin): the OMZ ONNX exports give NaNs in current
onnxruntime.

Precision ``int8`` (the default) runs the model quantised to 8-bit integers with NNCF
(:mod:`pipeline.embedders.int8`, made once per model file and cached in the user cache):
2-3 x faster per crop on a CPU at the same re-ID accuracy (``benchmarks/reid_int8.py``). ``fp32`` runs
the file as shipped (OpenVINO may still compute in bf16 on CPUs with AMX).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import numpy.typing as npt

from pipeline.embedders import DEFAULT_PRECISION, check_precision
from pipeline.embedders.base import l2_normalise
from pipeline.embedders.crops import crop_batch
from pipeline.embedders.models import ModelNotFoundError, find_model, not_found_message, require_file
from pipeline.errors import WeightsError

log = logging.getLogger(__name__)

INPUT_HW = (256, 128)
VARIANTS = ("0287", "0288")  # best measured first (benchmarks/reid.py)


def resolve(model_path: str | Path | None, variants: tuple[str, ...] = VARIANTS) -> Path:
    """The IR .xml: ``model_path`` itself, searched in it (a directory), or in the model dirs."""
    if model_path is not None and not Path(model_path).expanduser().is_dir():
        path = require_file(model_path, (".xml",), "OpenVINO IR (.xml)")
        if not path.with_suffix(".bin").is_file():
            raise WeightsError(
                f"{path}: the IR weights file {path.with_suffix('.bin').name} is missing next to it"
            )
        return path
    for variant in variants:
        found = find_model(f"omz-{variant}", model_path)
        if found is not None:
            return found
    raise ModelNotFoundError(
        not_found_message("Open Model Zoo person-reidentification IR", "omz", model_path)
    )


class OMZEmbedder:
    """OMZ person-reidentification-retail features of each crop, L2-normalised.

    Args:
        model_path: the IR .xml, or a directory to search (``None``: the model directories).
        precision: ``"int8"`` (default; quantised once and cached, see the module docstring) or ``"fp32"``.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        batch_size: int = 64,
        threads: int = 2,
        precision: str = DEFAULT_PRECISION,
    ) -> None:
        import openvino as ov

        check_precision(precision)
        self.model_path = resolve(model_path)
        self.precision = precision
        core = ov.Core()
        try:
            model = core.read_model(str(self.model_path))
        except Exception as exc:
            raise WeightsError(f"{self.model_path} is not a readable OpenVINO IR model: {exc}") from exc
        if len(model.inputs) != 1 or len(model.outputs) < 1:
            raise WeightsError(f"{self.model_path}: expected one input and an embedding output")
        in_shape = model.inputs[0].get_partial_shape()
        if in_shape.rank.get_length() != 4 or [d.get_length() for d in list(in_shape)[1:]] != [3, *INPUT_HW]:
            raise WeightsError(
                f"{self.model_path} is not a person re-ID model: input shape {in_shape}, expected Nx3x256x128"
            )
        if precision == "int8":
            from pipeline.embedders.int8 import int8_model

            try:
                model = core.read_model(str(int8_model(self.model_path, INPUT_HW)))
            except (WeightsError, OSError, RuntimeError) as exc:  # the float model still works: use it
                log.warning("INT8 re-ID unavailable (%s); running %s in float", exc, self.model_path.name)
                self.precision = "fp32"
        try:
            model.reshape({model.inputs[0]: ov.PartialShape([-1, 3, *INPUT_HW])})
            self.model = core.compile_model(model, "CPU", {"INFERENCE_NUM_THREADS": threads})
        except Exception as exc:
            raise WeightsError(f"{self.model_path}: OpenVINO could not compile the model: {exc}") from exc
        self.output = self.model.outputs[0]
        self.dim = int(self.output.get_partial_shape()[1].get_length())
        self.batch_size = batch_size
        stem = self.model_path.stem
        self.name = "omz"
        self.variant = stem.rsplit("-", 1)[-1] if stem.startswith("person-reidentification-retail-") else stem

    def embed(self, image: npt.NDArray[np.uint8], xyxy: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        if len(xyxy) == 0:
            return np.zeros((0, self.dim), np.float32)
        crops = crop_batch(image, xyxy, INPUT_HW).numpy()  # BGR 0-255, as the IR expects
        feats = [
            self.model(np.ascontiguousarray(crops[i : i + self.batch_size]))[self.output]
            for i in range(0, len(crops), self.batch_size)
        ]
        return l2_normalise(np.concatenate(feats))
