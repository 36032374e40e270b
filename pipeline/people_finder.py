"""Find every person in one frame for privacy passes: a detection pass tuned to miss nobody.

Used before any camera image is shown or exported (faces are blurred first): a false find costs a little
blur, a missed person is a face on screen. Loads the default pose detector once per process.
"""

from __future__ import annotations

import copy
import threading

import numpy as np
import numpy.typing as npt

PRIVACY_IMGSZ = 960  # the processing default: its export is already cached
PRIVACY_CONF = 0.1  # low on purpose: a false blur costs nothing, a missed face is a leak
PRIVACY_TILES = 2  # frames larger than PRIVACY_IMGSZ also get 2 x 2 tiles: small, distant people too

_detector = None
_lock = threading.Lock()


def _privacy_detector():
    """The detector, loaded once (raises what the detector raises: missing weights, a broken runtime)."""
    global _detector
    with _lock:
        if _detector is None:
            from pipeline.detector import YoloDetector

            _detector = YoloDetector(imgsz=PRIVACY_IMGSZ, conf=PRIVACY_CONF)
        return _detector


def find_people(
    image: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.float32], list[npt.NDArray[np.float32] | None]]:
    """Every person the detector finds in a BGR ``image``: (N, 4) xyxy boxes and their keypoints (or
    ``None`` per person for plain detector weights). Not thread-safe: callers serialise passes.

    Raises:
        WeightsError, or what the runtime raises: the pass could not run (then show nothing).
    """
    detector = _privacy_detector()
    if max(image.shape[:2]) > PRIVACY_IMGSZ:
        detector = copy.copy(detector)
        detector.tiles = PRIVACY_TILES
    dets = detector(image)
    keypoints = list(dets.keypoints) if dets.keypoints is not None else [None] * len(dets.xyxy)
    return dets.xyxy.astype(np.float32), keypoints
