"""Face blurring for every image the dashboard shows or exports.

Each person's head is located from the pose keypoints (COCO nose, eyes, ears) when they are visible,
otherwise a fixed band at the top of the person's box is used. The region is pixelated and then
blurred, which leaves nothing recognisable while keeping the scene readable.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

HEAD_KEYPOINTS = (0, 1, 2, 3, 4)  # COCO: nose, left/right eye, left/right ear
MIN_VISIBILITY = 0.3
TOP_BAND = 0.25  # share of the box height taken as the head when keypoints are missing
HEAD_PAD = 0.6  # grow the keypoint box by this share of the box width on each side


def head_boxes(
    xyxy: npt.NDArray[np.float32], keypoints: list[npt.NDArray[np.float32] | None] | None = None
) -> npt.NDArray[np.float32]:
    """(N, 4) head regions in xyxy pixels for (N, 4) person boxes.

    Args:
        xyxy: person boxes.
        keypoints: per person, (17, 3) x, y, visibility, or ``None``.
    """
    xyxy = np.asarray(xyxy, np.float32).reshape(-1, 4)
    heads = np.empty_like(xyxy)
    for i, (x1, y1, x2, y2) in enumerate(xyxy):
        w, h = x2 - x1, y2 - y1
        band = np.array([x1, y1, x2, y1 + TOP_BAND * h], np.float32)
        kp = None if keypoints is None else keypoints[i]
        if kp is not None:
            kp = np.asarray(kp, np.float32).reshape(-1, 3)
            head = kp[list(HEAD_KEYPOINTS)] if len(kp) >= 5 else kp[:0]
            head = head[head[:, 2] >= MIN_VISIBILITY]
            if len(head):
                pad = max(HEAD_PAD * w / 2, 4.0)
                box = np.array(
                    [
                        head[:, 0].min() - pad,
                        head[:, 1].min() - pad,
                        head[:, 0].max() + pad,
                        head[:, 1].max() + pad,
                    ],
                    np.float32,
                )
                # The union keeps the top band too: a keypoint box alone can miss hair or a turned head.
                band = np.array(
                    [min(box[0], band[0]), min(box[1], band[1]), max(box[2], band[2]), max(box[3], band[3])],
                    np.float32,
                )
        heads[i] = band
    return heads


def blur_regions(image: npt.NDArray[np.uint8], boxes: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """A copy of ``image`` (H, W, 3) with each (N, 4) xyxy region pixelated and blurred."""
    out = image.copy()
    height, width = out.shape[:2]
    for x1, y1, x2, y2 in np.asarray(boxes, np.float32).reshape(-1, 4):
        a, b = max(int(np.floor(x1)), 0), max(int(np.floor(y1)), 0)
        c, d = min(int(np.ceil(x2)), width), min(int(np.ceil(y2)), height)
        if c - a < 2 or d - b < 2:
            continue
        region = out[b:d, a:c]
        small = cv2.resize(
            region, (max(1, (c - a) // 10), max(1, (d - b) // 10)), interpolation=cv2.INTER_AREA
        )
        region = cv2.resize(small, (c - a, d - b), interpolation=cv2.INTER_NEAREST)
        k = max(3, ((min(c - a, d - b) // 3) | 1))
        out[b:d, a:c] = cv2.GaussianBlur(region, (k, k), 0)
    return out


def blur_people(
    image: npt.NDArray[np.uint8],
    xyxy: npt.NDArray[np.float32],
    keypoints: list[npt.NDArray[np.float32] | None] | None = None,
) -> npt.NDArray[np.uint8]:
    """``image`` with the head of every person in ``xyxy`` blurred."""
    if len(np.asarray(xyxy).reshape(-1, 4)) == 0:
        return image.copy()
    return blur_regions(image, head_boxes(xyxy, keypoints))
