"""The OMZ re-ID model in INT8 (``--reid-precision int8``, the default for ``omz``): calibration crops,
quantisation with NNCF, and the cache of quantised models.

Post-training quantisation, preset ``PERFORMANCE`` (symmetric), calibrated on seeded jittered crops of the
people the default detector finds in the street photos that ship with Ultralytics
(:func:`calibration_crops`): never downloaded data and never the footage being processed, so one model
serves every video and every machine gets the same one (as for the INT8 detector, :mod:`pipeline.quantize`).
Measured against the float IR by ``benchmarks/reid_int8.py`` (docs/benchmarks.md, "INT8 re-ID").
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

import numpy as np

from pipeline.detector import YoloDetector
from pipeline.embedders.crops import crop_batch
from pipeline.errors import WeightsError
from pipeline.hashing import file_sha256
from pipeline.quantize import CALIBRATION_SEED, package_photo
from pipeline.resources import user_cache_dir

log = logging.getLogger(__name__)

# Bumped whenever the calibration changes, so a model quantised by an older version is not reused.
CALIBRATION_VERSION = 1
CALIBRATION_SAMPLES = 128
PHOTOS = (("ultralytics", "assets/bus.jpg"), ("ultralytics", "assets/zidane.jpg"))
MIN_SCORE = 0.5  # people the default detector is sure of


def calibration_crops(
    input_hw: tuple[int, int], n: int = CALIBRATION_SAMPLES, seed: int = CALIBRATION_SEED
) -> list[np.ndarray]:
    """``n`` (1, 3, H, W) float32 BGR 0-255 person crops (the OMZ re-ID input) from the bundled photos.

    Each is a person box the default detector finds (score >= ``MIN_SCORE``), shifted by up to 10 %
    of its width and 5 % of its height, scaled x0.9-1.15, mirrored half of the time, with contrast
    x0.6-1.4 and brightness -40..+40: what a tracker's crops of one person look like.
    """
    photos = [package_photo(package, relative) for package, relative in PHOTOS]
    detector = YoloDetector(backend="torch", imgsz=640)
    people = []
    for photo in photos:
        found = detector(photo)
        people += [(photo, box) for box in found.xyxy[found.confidence >= MIN_SCORE]]
    if not people:
        raise WeightsError(
            "cannot quantise the re-ID model: the detector found nobody in the calibration photos"
        )
    rng = np.random.default_rng(seed)
    crops = []
    for i in range(n):
        photo, (x1, y1, x2, y2) = people[i % len(people)]
        w, h = x2 - x1, y2 - y1
        scale = rng.uniform(0.9, 1.15)
        cx = (x1 + x2) / 2 + rng.uniform(-0.1, 0.1) * w
        cy = (y1 + y2) / 2 + rng.uniform(-0.05, 0.05) * h
        box = np.array([[cx - w * scale / 2, cy - h * scale / 2, cx + w * scale / 2, cy + h * scale / 2]])
        gain, offset = rng.uniform(0.6, 1.4), rng.uniform(-40, 40)
        image = np.clip(photo.astype(np.float32) * gain + offset, 0, 255).astype(np.uint8)
        crop = crop_batch(image, box.astype(np.float32), input_hw).numpy()
        if rng.random() < 0.5:
            crop = crop[..., ::-1]
        crops.append(np.ascontiguousarray(crop, dtype=np.float32))
    return crops


def quantize_reid(source: Path, target: Path, input_hw: tuple[int, int]) -> None:
    """Write the INT8 quantisation of the re-ID IR ``source`` (.xml) to ``target`` (.xml, .bin beside).

    Raises:
        WeightsError: NNCF is not installed, or quantisation failed.
    """
    try:
        import nncf
        import openvino as ov
    except ImportError as exc:
        raise WeightsError(f"INT8 re-ID needs the nncf package ({exc}): pip install nncf") from exc
    nncf.set_log_level(logging.WARNING)
    model = ov.Core().read_model(source)
    crops = calibration_crops(input_hw)
    try:
        quantized = nncf.quantize(
            model=model,
            calibration_dataset=nncf.Dataset(crops),
            preset=nncf.QuantizationPreset.PERFORMANCE,
            subset_size=len(crops),
        )
    except Exception as exc:  # noqa: BLE001 - NNCF raises many kinds
        raise WeightsError(f"cannot quantise {source} to INT8: {exc}") from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    ov.save_model(quantized, target, compress_to_fp16=False)


def int8_model(source: Path, input_hw: tuple[int, int]) -> Path:
    """The INT8 quantisation of the IR ``source`` (.xml), made once and cached in the user cache.

    The cache key is the hash of the IR weights (.bin) and the calibration version; a folder per model
    is published atomically, so concurrent runs see the whole model or none.
    """
    key = file_sha256(source.with_suffix(".bin"))[:16]
    folder = user_cache_dir() / "reid-int8" / f"{source.stem}-{key}-int8c{CALIBRATION_VERSION}"
    target = folder / source.name
    if target.is_file():
        return target
    folder.parent.mkdir(parents=True, exist_ok=True)
    if folder.exists():  # not published by us (published folders hold the model): start again
        shutil.rmtree(folder)
    log.info("quantising %s to INT8 (once, about 20 s; cached in %s)", source.name, folder.parent)
    with tempfile.TemporaryDirectory(dir=folder.parent) as tmp:
        out = Path(tmp) / folder.name
        quantize_reid(source, out / source.name, input_hw)
        try:
            out.rename(folder)
        except OSError:
            if not target.is_file():
                raise
    return target
