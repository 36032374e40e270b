"""INT8 quantisation of the detector's OpenVINO export (backend ``openvino-int8``).

Post-training quantisation with NNCF, as Ultralytics' own ``int8=True`` OpenVINO export does it
(preset ``MIXED``; the detection head's decoding and every sigmoid stay in floating point), but
offline and deterministic: the calibration images are seeded crops of the photos that ship inside the
installed packages (Ultralytics' ``bus.jpg`` and ``zidane.jpg``, Matplotlib's ``grace_hopper.jpg``),
never downloaded data and never the footage being processed, so one export serves every video and
every run gives the same model. Measured against the FP32 export: docs/benchmarks.md ("INT8 detector").
The re-ID model's quantisation (:mod:`pipeline.embedders.int8`) uses the same photos.
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
from pathlib import Path

import numpy as np

from pipeline.errors import WeightsError

# Bumped whenever the calibration changes, so a model quantised by an older version is not reused.
CALIBRATION_VERSION = 1
CALIBRATION_SAMPLES = 64
CALIBRATION_SEED = 0
# (package, path inside it, share of the samples): full-body street photos, and a portrait.
CALIBRATION_PHOTOS = (
    ("ultralytics", "assets/bus.jpg", 0.4),
    ("ultralytics", "assets/zidane.jpg", 0.4),
    ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg", 0.2),
)


def package_photo(package: str, relative: str) -> np.ndarray:
    import cv2

    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise WeightsError(f"cannot quantise the detector: package {package!r} is not installed")
    path = Path(spec.origin).parent / relative
    image = cv2.imread(str(path))
    if image is None:
        raise WeightsError(f"cannot quantise the detector: calibration photo {path} is missing or unreadable")
    return image


def calibration_images(n: int = CALIBRATION_SAMPLES, seed: int = CALIBRATION_SEED) -> list[np.ndarray]:
    """``n`` BGR crops of the bundled photos (same seed, same images; :func:`_augmented_crop`).

    Mosaics of crops (people at a half and a third of the size) were tried and not kept: better on the
    TUD mosaics, worse on the shop clips (docs/benchmarks.md, "INT8 detector").
    """
    rng = np.random.default_rng(seed)
    photos = [package_photo(package, relative) for package, relative, _ in CALIBRATION_PHOTOS]
    shares = np.array([share for *_, share in CALIBRATION_PHOTOS])
    return [_augmented_crop(rng, photos, shares / shares.sum()) for _ in range(n)]


def _augmented_crop(rng: np.random.Generator, photos: list[np.ndarray], shares: np.ndarray) -> np.ndarray:
    """A crop of 30-100 % of a photo's area with a landscape aspect (4:3 to 16:9), resized to a width of
    320-1280 px, mirrored half of the time, with contrast x0.6-1.4 and brightness -40..+40."""
    import cv2

    photo = photos[rng.choice(len(photos), p=shares)]
    height, width = photo.shape[:2]
    area = rng.uniform(0.3, 1.0) * height * width
    aspect = rng.choice([4 / 3, 16 / 9]) if rng.random() < 0.7 else rng.uniform(4 / 3, 16 / 9)
    w = min(width, round(float(np.sqrt(area * aspect))))
    h = min(height, round(w / aspect))
    w = min(width, round(h * aspect))
    x0, y0 = int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1))
    crop = photo[y0 : y0 + h, x0 : x0 + w]
    tw = int(rng.uniform(320, 1280))
    th = max(32, round(tw * h / w))
    crop = cv2.resize(crop, (tw, th), interpolation=cv2.INTER_AREA if tw < w else cv2.INTER_LINEAR)
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    gain, offset = rng.uniform(0.6, 1.4), rng.uniform(-40, 40)
    return np.ascontiguousarray(np.clip(crop.astype(np.float32) * gain + offset, 0, 255).astype(np.uint8))


def model_input(image: np.ndarray, imgsz: int) -> np.ndarray:
    """(1, 3, H, W) float32 RGB in [0, 1], letterboxed as Ultralytics' predictor does for a model with
    dynamic input shape (longest side ``imgsz``, the other padded to a multiple of 32)."""
    from ultralytics.data.augment import LetterBox

    boxed = LetterBox(imgsz, auto=True, stride=32)(image=image)
    return np.ascontiguousarray(boxed[..., ::-1].transpose(2, 0, 1)[None], dtype=np.float32) / 255.0


def quantize_openvino(source: Path, target: Path, imgsz: int) -> None:
    """Write the INT8 quantisation of the OpenVINO model folder ``source`` to the folder ``target``.

    Raises:
        WeightsError: NNCF is not installed, or quantisation failed.
    """
    try:
        import nncf
        import openvino as ov
    except ImportError as exc:
        raise WeightsError(f"backend openvino-int8 needs the nncf package ({exc}): pip install nncf") from exc
    nncf.set_log_level(logging.WARNING)  # one INFO line per operation left in floating point otherwise
    xmls = sorted(source.glob("*.xml"))
    if len(xmls) != 1:
        raise WeightsError(f"cannot quantise {source}: expected one OpenVINO .xml model, found {len(xmls)}")
    model = ov.Core().read_model(xmls[0])
    ops = model.get_ordered_ops()
    sigmoids = [op.get_friendly_name() for op in ops if op.get_type_name() == "Sigmoid"]
    head = sigmoids[-1].split("/", 1)[0] if sigmoids else None
    ignored = [
        op.get_friendly_name()
        for op in ops
        if op.get_type_name() == "Sigmoid"
        or (head is not None and op.get_friendly_name().startswith((f"{head}/", f"{head}.dfl")))
    ]
    images = calibration_images()
    try:
        quantized = nncf.quantize(
            model=model,
            calibration_dataset=nncf.Dataset(images, lambda image: model_input(image, imgsz)),
            preset=nncf.QuantizationPreset.MIXED,
            subset_size=len(images),
            ignored_scope=nncf.IgnoredScope(names=ignored),
        )
    except Exception as exc:  # noqa: BLE001 - NNCF raises many kinds
        raise WeightsError(f"cannot quantise {source} to INT8: {exc}") from exc
    target.mkdir(parents=True, exist_ok=True)
    ov.save_model(quantized, target / xmls[0].name, compress_to_fp16=False)
    for extra in source.iterdir():
        if extra.suffix not in (".xml", ".bin"):
            shutil.copy2(extra, target / extra.name)
