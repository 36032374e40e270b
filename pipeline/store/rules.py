"""Analytics settings and suspicious-behaviour rules: the store config's ``analytics:`` and ``flags:`` mappings.

:func:`pipeline.config.parse_config` runs these checks when a config is read, so a config that loads is one
``analyse`` accepts.

Both mappings are optional; every key has a default (see :data:`ANALYTICS_DEFAULTS`, :data:`FLAG_DEFAULTS`).
Unknown keys and out-of-range values raise :class:`~pipeline.errors.ConfigError` naming the key.

Example::

    analytics:
      min_dwell_s: 5            # a visit counts once it lasts this long ...
      min_dwell_by_kind: {entrance: 0, exit: 0}   # ... except for zones of these kinds (passing is the point)
      merge_gap_s: 3            # gaps shorter than this join one visit
      bounce_s: 10              # counted visits shorter than this are bounces
      queues: {Till: Till queue}  # checkout zone -> the zone where its queue forms
    flags:
      long_dwell: {threshold_s: 300}
      pose_concealment: {enabled: false}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipeline.errors import ConfigError

if TYPE_CHECKING:
    from pipeline.config import StoreConfig

ZONE_KINDS = ("section", "entrance", "exit", "checkout", "high_value", "restricted", "staff_only")

ANALYTICS_DEFAULTS: dict[str, Any] = {
    "min_dwell_s": 5.0,
    "min_dwell_by_kind": {"entrance": 0.0, "exit": 0.0},
    "merge_gap_s": 3.0,
    "bounce_s": 10.0,
    "sample_interval_s": None,  # None: the median step between a shopper's consecutive points
    "max_step_s": None,  # None: 3 x sample interval; longer steps are tracking gaps
    "staff_zone_s": 120.0,
    "queues": {},
    "till_link_s": 15.0,
    "walking_min_mps": 0.5,
    "heatmap_cell_m": 0.5,
    "heatmap_cell_px": 40.0,
    "top_sequences": 20,
    "sankey_steps": 6,
}

FLAG_DEFAULTS: dict[str, dict[str, Any]] = {
    "long_dwell": {
        "enabled": True,
        "threshold_s": 300.0,
        "use_p95": True,
        "p95_min_s": 180.0,
        "p95_min_visits": 20,
    },
    "repeated_returns": {"enabled": True, "min_visits": 3},
    "checkout_bypass": {"enabled": True},
    "restricted_entry": {"enabled": True, "min_s": 0.0},
    "loitering": {"enabled": True, "threshold_s": 90.0},
    "pose_concealment": {
        "enabled": True,
        "min_s": 4.0,
        "max_dy": 0.08,
        "max_dx": 0.12,
        "min_visibility": 0.5,
    },
}

RULES = tuple(FLAG_DEFAULTS)


@dataclass(frozen=True)
class AnalyticsSettings:
    """Validated ``analytics:`` settings (seconds, metres, pixels). See :data:`ANALYTICS_DEFAULTS`."""

    min_dwell_s: float
    min_dwell_by_kind: dict[str, float]
    merge_gap_s: float
    bounce_s: float
    sample_interval_s: float | None
    max_step_s: float | None
    staff_zone_s: float
    queues: dict[str, str]
    till_link_s: float
    walking_min_mps: float
    heatmap_cell_m: float
    heatmap_cell_px: float
    top_sequences: int
    sankey_steps: int

    def min_dwell_for(self, kinds: tuple[str, ...]) -> float:
        """Minimum dwell of a zone: the smallest per-kind override among its kinds, else ``min_dwell_s``."""
        overrides = [self.min_dwell_by_kind[k] for k in kinds if k in self.min_dwell_by_kind]
        return min(overrides) if overrides else self.min_dwell_s


@dataclass(frozen=True)
class FlagRules:
    """Validated ``flags:`` rules: ``rules[name]`` is that rule's parameter mapping (``enabled`` included)."""

    rules: dict[str, dict[str, Any]]

    def enabled(self, name: str) -> bool:
        return bool(self.rules[name]["enabled"])

    def __getitem__(self, name: str) -> dict[str, Any]:
        return self.rules[name]


def _number(
    value: Any, where: str, minimum: float = 0.0, strict: bool = False, integer: bool = False
) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > minimum if strict else value >= minimum)
    if ok and integer and value != int(value):
        ok = False
    if not ok:
        bound = f"> {minimum:g}" if strict else f">= {minimum:g}"
        kind = "an integer" if integer else "a number"
        raise ConfigError(f"{where} must be {kind} {bound}, but got {value!r}")
    return int(value) if integer else float(value)


def _unknown(raw: Mapping, allowed: Mapping, where: str) -> None:
    unknown = sorted(map(str, set(raw) - set(allowed)))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )


def parse_analytics(raw: Mapping[str, Any] | None, zone_names: set[str] | None = None) -> AnalyticsSettings:
    """Validate an ``analytics:`` mapping, filling defaults.

    Args:
        raw: the mapping (``None`` or empty: all defaults).
        zone_names: zone names, to check ``queues`` against (``None`` skips the check).

    Raises:
        ConfigError: unknown key, wrong type or out-of-range value, unknown zone in ``queues``.
    """
    raw = dict(raw or {})
    _unknown(raw, ANALYTICS_DEFAULTS, "analytics")
    merged = {**ANALYTICS_DEFAULTS, **raw}
    out: dict[str, Any] = {}
    for key in ("min_dwell_s", "merge_gap_s", "bounce_s", "staff_zone_s", "till_link_s", "walking_min_mps"):
        out[key] = _number(merged[key], f"analytics.{key}")
    for key in ("heatmap_cell_m", "heatmap_cell_px"):
        out[key] = _number(merged[key], f"analytics.{key}", strict=True)
    for key in ("sample_interval_s", "max_step_s"):
        value = merged[key]
        out[key] = None if value is None else _number(value, f"analytics.{key}", strict=True)
    for key in ("top_sequences", "sankey_steps"):
        out[key] = int(_number(merged[key], f"analytics.{key}", minimum=1, integer=True))
    by_kind = merged["min_dwell_by_kind"] or {}
    if not isinstance(by_kind, Mapping):
        raise ConfigError("analytics.min_dwell_by_kind must be a mapping of zone kind -> seconds")
    bad = sorted(set(map(str, by_kind)) - set(ZONE_KINDS))
    if bad:
        raise ConfigError(
            f"analytics.min_dwell_by_kind: unknown zone kind(s) {', '.join(bad)}; "
            f"valid kinds: {', '.join(ZONE_KINDS)}"
        )
    out["min_dwell_by_kind"] = {k: _number(v, f"analytics.min_dwell_by_kind.{k}") for k, v in by_kind.items()}
    queues = merged["queues"] or {}
    if not isinstance(queues, Mapping):
        raise ConfigError("analytics.queues must be a mapping of checkout zone -> queue zone")
    queues = {str(k): str(v) for k, v in queues.items()}
    if zone_names is not None:
        for till, queue in queues.items():
            for name in (till, queue):
                if name not in zone_names:
                    raise ConfigError(f"analytics.queues: unknown zone {name!r} (in {till!r}: {queue!r})")
    out["queues"] = queues
    return AnalyticsSettings(**out)


def parse_flags(raw: Mapping[str, Any] | None) -> FlagRules:
    """Validate a ``flags:`` mapping (rule name -> parameters), filling defaults.

    Raises:
        ConfigError: unknown rule or parameter, wrong type or out-of-range value.
    """
    raw = dict(raw or {})
    _unknown(raw, FLAG_DEFAULTS, "flags")
    rules: dict[str, dict[str, Any]] = {}
    for name, defaults in FLAG_DEFAULTS.items():
        given = raw.get(name)
        given = {} if given is None else given
        if not isinstance(given, Mapping):
            raise ConfigError(f"flags.{name} must be a mapping of parameters")
        _unknown(given, defaults, f"flags.{name}")
        params = {**defaults, **given}
        for key, default in defaults.items():
            where = f"flags.{name}.{key}"
            if isinstance(default, bool):
                if not isinstance(params[key], bool):
                    raise ConfigError(f"{where} must be true or false, but got {params[key]!r}")
            elif isinstance(default, int):
                params[key] = int(_number(params[key], where, minimum=1, integer=True))
            else:
                params[key] = _number(params[key], where)
        rules[name] = params
    return FlagRules(rules)


def settings_from_config(config: StoreConfig) -> tuple[AnalyticsSettings, FlagRules]:
    """Both settings objects of a store config, validated against its zones.

    Raises:
        ConfigError: as :func:`parse_analytics` and :func:`parse_flags`; also a ``queues`` entry whose
            checkout zone is not of kind ``checkout``.
    """
    return parse_sections(config.analytics, config.flags, {z.name: z.kinds for z in config.zones})


def parse_sections(
    analytics_raw: Mapping[str, Any] | None,
    flags_raw: Mapping[str, Any] | None,
    zone_kinds: Mapping[str, tuple[str, ...]],
) -> tuple[AnalyticsSettings, FlagRules]:
    """Both settings objects from the raw ``analytics:`` and ``flags:`` mappings and the zones' kinds.

    Raises:
        ConfigError: as :func:`settings_from_config`.
    """
    analytics = parse_analytics(analytics_raw, set(zone_kinds))
    for till in analytics.queues:
        if "checkout" not in zone_kinds[till]:
            raise ConfigError(f"analytics.queues: zone {till!r} is not of kind 'checkout'")
    return analytics, parse_flags(flags_raw)
