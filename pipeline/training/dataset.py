"""Training crops with weak labels: which crops show the same person, which pairs are known different."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from pipeline.embedders.batch import TILE_HW, resize_crops
from pipeline.errors import UserError

MARKET_NAME = re.compile(r"^(-?\d+)_c(\d+)")
MIN_GROUPS = 6
MIN_CROPS = 32
MIN_NEGATIVE_PAIRS = 4


@dataclass(frozen=True)
class CropSet:
    """Person crops grouped by identity (a person id or one tracklet).

    Attributes:
        crops: (N, 256, 128, 3) uint8 BGR crops.
        labels: (N,) int64 group index of each crop, in [0, G).
        cannot_link: (G, G) bool, True where two groups are known to be different people.
        cameras: (N,) int64 camera index of each crop (for evaluation protocols).
        source: where the crops came from (for the model file's record).
    """

    crops: npt.NDArray[np.uint8]
    labels: npt.NDArray[np.int64]
    cannot_link: npt.NDArray[np.bool_]
    cameras: npt.NDArray[np.int64]
    source: str

    def __post_init__(self) -> None:
        n, g = len(self.crops), len(self.cannot_link)
        if self.crops.shape[1:] != (*TILE_HW, 3) or self.crops.dtype != np.uint8:
            raise ValueError(
                f"crops must be (N, {TILE_HW[0]}, {TILE_HW[1]}, 3) uint8, got {self.crops.shape} {self.crops.dtype}"
            )
        if self.labels.shape != (n,) or self.cameras.shape != (n,):
            raise ValueError(f"labels and cameras must have shape ({n},)")
        if self.cannot_link.shape != (g, g):
            raise ValueError(f"cannot_link must be square, got {self.cannot_link.shape}")
        if n and (self.labels.min() < 0 or self.labels.max() >= g):
            raise ValueError(f"labels must be in [0, {g})")

    def __len__(self) -> int:
        return len(self.crops)

    @property
    def n_groups(self) -> int:
        return len(self.cannot_link)

    @property
    def n_negative_pairs(self) -> int:
        return int(np.triu(self.cannot_link, 1).sum())

    def summary(self) -> str:
        return (
            f"{len(self)} crops in {self.n_groups} groups, {self.n_negative_pairs} known-different pairs "
            f"(from {self.source})"
        )

    def check_enough(self, method: str, unit: str = "tracklets") -> None:
        """Refuse to train on too little data, saying how much is needed.

        Raises:
            UserError: fewer groups, crops or known-different pairs than training needs.
        """
        need_pairs = method == "siamese"
        groups_ok = self.n_groups >= MIN_GROUPS or not need_pairs
        enough = (
            len(self) >= MIN_CROPS
            and groups_ok
            and (self.n_negative_pairs >= MIN_NEGATIVE_PAIRS or not need_pairs)
        )
        if enough:
            return
        wanted = f"at least {MIN_CROPS} crops"
        if need_pairs:
            wanted += (
                f", {MIN_GROUPS} {unit} and {MIN_NEGATIVE_PAIRS} pairs of {unit} known to be different people "
                "(seen at the same time by the same camera)"
            )
        raise UserError(
            f"not enough training data for --method {method}: found {self.summary()}; need {wanted}. "
            "Process more footage first: a few minutes of video with two or more shoppers in view at once "
            "(each confident tracklet must last at least 10 frames) usually gives enough."
        )


def read_market_folder(directory: str | Path, max_per_id: int = 32) -> CropSet:
    """Labelled crops named like Market-1501 (``PPPP_cC...jpg``); ids ``-1``/``0000`` (junk) are skipped.

    Raises:
        UserError: the folder is missing or holds no such files.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise UserError(f"crops folder not found: {directory}")
    entries = []
    for path in sorted(directory.iterdir()):
        match = MARKET_NAME.match(path.name)
        if match and path.suffix.lower() in (".jpg", ".jpeg", ".png") and int(match.group(1)) > 0:
            entries.append((int(match.group(1)), int(match.group(2)), path))
    if not entries:
        raise UserError(
            f"{directory} holds no crops named like Market-1501 (PPPP_cC..., e.g. 0002_c1s1_000451_01.jpg)"
        )
    per_id: dict[int, int] = {}
    images, pids, cams = [], [], []
    for pid, cam, path in entries:
        if per_id.get(pid, 0) >= max_per_id:
            continue
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise UserError(f"cannot read image {path}")
        per_id[pid] = per_id.get(pid, 0) + 1
        images.append(image)
        pids.append(pid)
        cams.append(cam)
    unique, labels = np.unique(np.array(pids), return_inverse=True)
    cannot_link = ~np.eye(len(unique), dtype=bool)  # labelled: every two ids are different people
    return CropSet(
        resize_crops(images), labels.astype(np.int64), cannot_link, np.array(cams, np.int64), str(directory)
    )
