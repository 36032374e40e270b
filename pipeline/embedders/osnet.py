"""``osnet``: OSNet x0_25 person re-ID features (512-d) from an ONNX file, run with onnxruntime.

Input: RGB, /255, ImageNet mean/std, Nx3x256x128. Obtain the file as described in
:data:`pipeline.embedders.models.SOURCES`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch

from pipeline.embedders.base import l2_normalise
from pipeline.embedders.crops import crop_batch
from pipeline.embedders.models import ModelNotFoundError, find_model, not_found_message, require_file
from pipeline.errors import WeightsError

INPUT_HW = (256, 128)
_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1) * 255
_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1) * 255


def resolve(model_path: str | Path | None) -> Path:
    """The OSNet ONNX file: ``model_path`` itself, searched in it (a directory), or in the model dirs."""
    if model_path is not None and not Path(model_path).expanduser().is_dir():
        return require_file(model_path, (".onnx",), "OSNet ONNX")
    found = find_model("osnet", model_path)
    if found is None:
        raise ModelNotFoundError(not_found_message("OSNet ONNX", "osnet", model_path))
    return found


class OSNetEmbedder:
    """OSNet re-ID features of each crop, L2-normalised."""

    name = "osnet"

    def __init__(self, model_path: str | Path | None = None, batch_size: int = 64, threads: int = 2) -> None:
        import onnxruntime as ort

        self.model_path = resolve(model_path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(
                str(self.model_path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise WeightsError(f"{self.model_path} is not a loadable ONNX model: {exc}") from exc
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        shape = list(inputs[0].shape) if inputs else []
        if len(inputs) != 1 or len(shape) != 4 or shape[1:] not in ([3, 256, 128], ["3", "256", "128"]):
            raise WeightsError(
                f"{self.model_path} is not an OSNet re-ID model: expected one input of shape Nx3x256x128, "
                f"got {[(i.name, i.shape) for i in inputs]}"
            )
        out_shape = outputs[0].shape
        if len(out_shape) != 2 or not isinstance(out_shape[1], int):
            raise WeightsError(f"{self.model_path}: expected an (N, D) output, got shape {out_shape}")
        self.dim = int(out_shape[1])
        self.input_name = inputs[0].name
        # A fixed batch dimension (an export without dynamic axes) forces batch 1 calls.
        self.batch_size = batch_size if not isinstance(shape[0], int) else shape[0]

    def embed(self, image: npt.NDArray[np.uint8], xyxy: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        if len(xyxy) == 0:
            return np.zeros((0, self.dim), np.float32)
        crops = crop_batch(image, xyxy, INPUT_HW).flip(1)  # BGR -> RGB
        crops = ((crops - _MEAN) / _STD).numpy()
        feats = [
            self.session.run(None, {self.input_name: np.ascontiguousarray(chunk)})[0]
            for chunk in _chunks(crops, self.batch_size)
        ]
        return l2_normalise(np.concatenate(feats))


def _chunks(array: np.ndarray, size: int) -> list[np.ndarray]:
    """Split along axis 0 into pieces of at most ``size`` rows (batching, not a per-crop loop)."""
    return [array[i : i + size] for i in range(0, len(array), size)]
