"""The store config's ``reid:`` mapping: how tracklets are joined into shoppers across cameras.

Example::

    reid:
      max_walking_speed: 2.0        # m/s; a hand-off needing a faster walk is impossible
      match_threshold: 0.4          # max cosine distance to join a known shopper
                                    # (default: calibrated on this store's footage, see
                                    # pipeline.reid.calibrate; EMBEDDER_THRESHOLDS without enough data)
      target_false_join: 0.01       # false-join rate the on-site calibration aims for
      match_margin: 0.3             # the best shopper must be closer than the second best by this
                                    # share of the match threshold (else: ambiguous, no join)
      handoff_window_s: 3.0         # s; a tracklet starting this soon after another camera's ended, with
                                    # no competitor either way, is a unique hand-off (constraints.unique_handoffs)
      handoff_discount: 1.0         # a unique hand-off's appearance distance is multiplied by this
                                    # (space/time as evidence; 1 = appearance alone, the default: the
                                    # held-out benchmark found no unique hand-off on the short TUD clips)
      refine_threshold: 0.4         # max average-linkage distance of the offline pass (default: match_threshold)
      position_slack: 1.5           # m of foot-point noise allowed in the speed check
      colocation_radius: 1.0        # m; two cameras seeing one person at once agree this closely
      max_views: 8                  # embeddings kept per shopper (different views)
      refine: true                  # run the offline refinement pass in mode `full`
      adjacency:                    # optional: direct hand-offs only between these (both ways)
        entrance: [aisle1]
        aisle1: [aisle2, checkout]
      transit_time:                 # optional: seconds from leaving one camera to appearing in the next
        entrance: {aisle1: [0, 20]} # (both ways)

Everything is optional; :data:`DEFAULTS` are used for missing keys.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from pipeline.errors import ConfigError

REID_MODES = ("independent", "appearance", "full")
# Cosine distance separating one person from two, per embedder. Chosen on the MOT15 sequences split into
# cameras (benchmarks/multicam.py: same-person tracklet distances below, different-person ones that
# space/time cannot rule out above) and checked on market1501-mini crops the MOT runs never see
# (benchmarks/thresholds.py): each keeps the crop-level false-accept rate at or below 1 %.
EMBEDDER_THRESHOLDS = {"omz": 0.52, "osnet": 0.20, "hist": 0.15, "mobilenet": 0.10}
FALLBACK_THRESHOLD = 0.25  # embedders not measured (siamese, vae, auto): set match_threshold yourself


@dataclass(frozen=True)
class ReidConfig:
    """Cross-camera assignment parameters (see the module docstring for the YAML form).

    Attributes:
        adjacency: camera -> cameras a shopper can walk to directly (symmetric; empty = any).
        transit_time: (camera_a, camera_b) -> (min_s, max_s) between leaving a and appearing in b,
            stored for both orders.
    """

    max_walking_speed: float = 2.0
    match_threshold: float | None = None
    target_false_join: float = 0.01
    match_margin: float = 0.3
    handoff_window_s: float = 3.0
    handoff_discount: float = 1.0
    refine_threshold: float | None = None
    position_slack: float = 1.5
    colocation_radius: float = 1.0
    max_views: int = 8
    refine: bool = True
    adjacency: dict[str, frozenset[str]] = field(default_factory=dict)
    transit_time: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("max_walking_speed", "match_threshold", "refine_threshold", "colocation_radius"):
            value = getattr(self, name)
            if value is None and name.endswith("threshold"):
                continue
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a positive number, but got {value!r}")
        if not math.isfinite(self.position_slack) or self.position_slack < 0:
            raise ValueError(f"position_slack must be >= 0, but got {self.position_slack!r}")
        if not 0 < self.target_false_join < 0.5:
            raise ValueError(f"target_false_join must be in (0, 0.5), but got {self.target_false_join!r}")
        if not math.isfinite(self.match_margin) or self.match_margin < 0:
            raise ValueError(f"match_margin must be >= 0, but got {self.match_margin!r}")
        if not math.isfinite(self.handoff_window_s) or self.handoff_window_s < 0:
            raise ValueError(f"handoff_window_s must be >= 0, but got {self.handoff_window_s!r}")
        if not math.isfinite(self.handoff_discount) or not 0 < self.handoff_discount <= 1:
            raise ValueError(f"handoff_discount must be in (0, 1], but got {self.handoff_discount!r}")
        if self.max_views < 1:
            raise ValueError(f"max_views must be >= 1, but got {self.max_views!r}")

    def for_embedder(self, embedder: str | None, calibrated: float | None = None) -> ReidConfig:
        """This config with unset thresholds filled in: ``calibrated`` (fitted on the store's footage) when
        given, else the built-in value for ``embedder`` (:data:`EMBEDDER_THRESHOLDS`)."""
        match = self.match_threshold
        if match is None:
            match = (
                calibrated
                if calibrated is not None
                else EMBEDDER_THRESHOLDS.get(embedder or "", FALLBACK_THRESHOLD)
            )
        refine = self.refine_threshold if self.refine_threshold is not None else match
        return replace(self, match_threshold=match, refine_threshold=refine)

    def adjacent(self, camera_a: str, camera_b: str) -> bool:
        """Whether a direct hand-off ``camera_a`` -> ``camera_b`` is allowed (always, without adjacency)."""
        if not self.adjacency or camera_a == camera_b:
            return True
        return camera_b in self.adjacency.get(camera_a, frozenset())


DEFAULTS = ReidConfig()
_NUMBER_KEYS = (
    "max_walking_speed",
    "match_threshold",
    "refine_threshold",
    "position_slack",
    "colocation_radius",
    "target_false_join",
    "match_margin",
    "handoff_window_s",
    "handoff_discount",
)
_KEYS = {*_NUMBER_KEYS, "max_views", "refine", "adjacency", "transit_time"}


def _number(raw: dict, key: str, positive: bool = True) -> float:
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"reid: {key} must be a number, but got {value!r}")
    if (positive and value <= 0) or value < 0:
        raise ConfigError(f"reid: {key} must be {'positive' if positive else '>= 0'}, but got {value!r}")
    return float(value)


def _camera(name: Any, cameras: set[str], where: str) -> str:
    if str(name) not in cameras:
        raise ConfigError(f"reid: {where}: unknown camera {name!r}; cameras: {', '.join(sorted(cameras))}")
    return str(name)


def _adjacency(raw: Any, cameras: set[str]) -> dict[str, frozenset[str]]:
    if not isinstance(raw, dict):
        raise ConfigError(
            f"reid: adjacency must be a mapping camera -> [cameras], but got {type(raw).__name__}"
        )
    pairs: dict[str, set[str]] = {}
    for cam, others in raw.items():
        a = _camera(cam, cameras, "adjacency")
        if isinstance(others, str) or not isinstance(others, list):
            raise ConfigError(f"reid: adjacency[{a!r}] must be a list of camera names, but got {others!r}")
        for other in others:
            b = _camera(other, cameras, f"adjacency[{a!r}]")
            pairs.setdefault(a, set()).add(b)
            pairs.setdefault(b, set()).add(a)
    return {k: frozenset(v) for k, v in pairs.items()}


def _transit(raw: Any, cameras: set[str]) -> dict[tuple[str, str], tuple[float, float]]:
    if not isinstance(raw, dict):
        raise ConfigError(
            f"reid: transit_time must be a mapping camera -> {{camera: [min_s, max_s]}}, but got {type(raw).__name__}"
        )
    out: dict[tuple[str, str], tuple[float, float]] = {}
    for cam, targets in raw.items():
        a = _camera(cam, cameras, "transit_time")
        if not isinstance(targets, dict):
            raise ConfigError(f"reid: transit_time[{a!r}] must be a mapping camera -> [min_s, max_s]")
        for other, window in targets.items():
            b = _camera(other, cameras, f"transit_time[{a!r}]")
            ok = (
                isinstance(window, list | tuple)
                and len(window) == 2
                and all(
                    isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                    for v in window
                )
            )
            if not ok or not 0 <= window[0] <= window[1]:
                raise ConfigError(
                    f"reid: transit_time[{a!r}][{b!r}] must be [min_s, max_s] with 0 <= min_s <= max_s, "
                    f"but got {window!r}"
                )
            out[(a, b)] = out[(b, a)] = (float(window[0]), float(window[1]))
    return out


def parse_reid(raw: Any, cameras: set[str]) -> ReidConfig:
    """Validate the ``reid:`` mapping of a store config.

    Raises:
        ConfigError: unknown key, a value of the wrong type or range, or an unknown camera.
    """
    if raw is None:
        return ReidConfig()
    if not isinstance(raw, dict):
        raise ConfigError(f"reid must be a mapping, but got {type(raw).__name__}")
    unknown = set(raw) - _KEYS
    if unknown:
        raise ConfigError(
            f"reid: unknown key(s) {', '.join(sorted(map(str, unknown)))}; allowed: {', '.join(sorted(_KEYS))}"
        )
    values: dict[str, Any] = {}
    for key in _NUMBER_KEYS:
        if key in raw:
            values[key] = _number(
                raw, key, positive=key not in ("position_slack", "match_margin", "handoff_window_s")
            )
    if values.get("target_false_join", 0.01) >= 0.5:
        raise ConfigError(
            f"reid: target_false_join must be below 0.5, but got {values['target_false_join']!r}"
        )
    if values.get("handoff_discount", 1.0) > 1:
        raise ConfigError(
            f"reid: handoff_discount must be at most 1 (1 = appearance alone), but got {values['handoff_discount']!r}"
        )
    if "max_views" in raw:
        mv = raw["max_views"]
        if isinstance(mv, bool) or not isinstance(mv, int) or mv < 1:
            raise ConfigError(f"reid: max_views must be an integer >= 1, but got {mv!r}")
        values["max_views"] = mv
    if "refine" in raw:
        if not isinstance(raw["refine"], bool):
            raise ConfigError(f"reid: refine must be true or false, but got {raw['refine']!r}")
        values["refine"] = raw["refine"]
    if raw.get("adjacency") is not None:
        values["adjacency"] = _adjacency(raw["adjacency"], cameras)
    if raw.get("transit_time") is not None:
        values["transit_time"] = _transit(raw["transit_time"], cameras)
    return ReidConfig(**values)


def reid_to_dict(config: ReidConfig) -> dict[str, Any]:
    """The YAML-ready mapping of ``config``: only the keys that differ from :data:`DEFAULTS`."""
    out: dict[str, Any] = {}
    for key in (*_NUMBER_KEYS, "max_views", "refine"):
        if getattr(config, key) != getattr(DEFAULTS, key):
            out[key] = getattr(config, key)
    if config.adjacency:
        # Each undirected pair once, listed under the alphabetically first camera.
        adj: dict[str, list[str]] = {}
        for a in sorted(config.adjacency):
            for b in sorted(config.adjacency[a]):
                if a <= b:
                    adj.setdefault(a, []).append(b)
        out["adjacency"] = adj
    if config.transit_time:
        tt: dict[str, dict[str, list[float]]] = {}
        for (a, b), window in sorted(config.transit_time.items()):
            if a <= b:
                tt.setdefault(a, {})[b] = list(window)
        out["transit_time"] = tt
    return out
