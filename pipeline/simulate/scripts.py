"""Shopper behaviour scripts: piecewise-linear floor paths with known zone visits and labelled cues.

Every simulated person gets a script (normal shopper, staff, a scripted suspicious sequence or a near-miss of
one). The script is a list of knots ``(t, x, y)`` (seconds since opening, metres); the exact in-zone time
intervals follow from clipping each straight piece against the zone rectangles (:func:`zone_intervals`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipeline.simulate.layout import AISLE_Y, OPEN_HOURS, SECTIONS, ZONE, ZONES

# Arrivals per opening hour (09:00 .. 20:00), relative: lunch and evening peaks.
HOURLY_WEIGHTS = np.array([3, 4, 5, 7, 8, 6, 5, 6, 8, 9, 7, 4], np.float64)

SUSPICIOUS = ("long_dwell", "repeated_returns", "checkout_bypass", "restricted_entry", "loitering",
              "pose_concealment")  # fmt: skip


@dataclass
class Script:
    """One person's day in the store.

    Attributes:
        shopper_id: id written to the database.
        kind: ``normal``, ``staff_manual``, ``staff_rule``, ``suspicious`` or ``near_miss``.
        rule: for suspicious / near-miss scripts, the rule it exercises.
        knots: (t, x, y) path knots, t in seconds since opening.
        pose_windows: (t0, t1) intervals showing the wrists-at-waist pose.
        till_visits: times the shopper reached a till (one sale each).
    """

    shopper_id: int
    kind: str
    rule: str | None = None
    knots: list[tuple[float, float, float]] = field(default_factory=list)
    pose_windows: list[tuple[float, float]] = field(default_factory=list)
    till_visits: list[float] = field(default_factory=list)

    @property
    def is_staff(self) -> bool:
        return self.kind.startswith("staff")


class _Walker:
    """Appends knots: walking, standing, browsing inside a zone."""

    def __init__(
        self, script: Script, t0: float, start: tuple[float, float], speed: float, rng: np.random.Generator
    ):
        self.s, self.t, self.p, self.v, self.rng = script, t0, start, speed, rng
        script.knots.append((t0, *start))

    def to(self, p: tuple[float, float], speed: float | None = None) -> None:
        d = float(np.hypot(p[0] - self.p[0], p[1] - self.p[1]))
        if d > 1e-9:
            self.t += d / (speed or self.v)
            self.p = p
            self.s.knots.append((self.t, *p))

    def stay(self, seconds: float) -> None:
        if seconds > 0:
            self.t += seconds
            self.s.knots.append((self.t, *self.p))

    def browse(self, zone: str, seconds: float) -> tuple[float, float]:
        """Wander slowly between random points of ``zone`` for exactly ``seconds``; returns (t0, t1)."""
        z, t0 = ZONE[zone], self.t
        end = self.t + seconds
        while self.t < end - 1e-9:
            q = z.random_point(self.rng)
            d = float(np.hypot(q[0] - self.p[0], q[1] - self.p[1]))
            walk = d / self.rng.uniform(0.3, 0.6)
            if self.t + walk > end:
                f = (end - self.t) / walk
                q = (self.p[0] + f * (q[0] - self.p[0]), self.p[1] + f * (q[1] - self.p[1]))
                walk = end - self.t
            self.t += walk
            self.p = q
            self.s.knots.append((self.t, *q))
            self.stay(min(self.rng.uniform(2, 10), end - self.t))
        return t0, end

    def aisle_to(self, x: float) -> None:
        if abs(self.p[1] - AISLE_Y) > 1e-9:
            self.to((self.p[0], AISLE_Y))
        self.to((x, AISLE_Y))

    def visit(self, zone: str, seconds: float, step_outs: int = 0) -> tuple[float, float]:
        """Walk from the aisle into ``zone``, browse ``seconds`` (split by ``step_outs`` 1-s steps out onto
        the aisle edge), walk back to the aisle. Returns the browse interval."""
        z = ZONE[zone]
        if zone == "Stockroom":
            self.aisle_to(23.75)
            self.to((23.75, 17.75))
            door = (23.75, 17.75)
        else:
            door = (float(self.rng.uniform(z.x0 + 1, z.x1 - 1)), AISLE_Y)
            self.aisle_to(door[0])
        self.to(z.random_point(self.rng))
        parts = np.full(step_outs + 1, seconds / (step_outs + 1))
        first = None
        for i, part in enumerate(parts):
            span = self.browse(zone, part)
            first = first or span
            if i < step_outs:  # step 0.3 m outside the edge facing the aisle, and back in
                edge_y = z.y0 - 0.3 if z.y0 > AISLE_Y else z.y1 + 0.3
                back = self.p
                self.to((self.p[0], edge_y), 1.2)
                self.stay(0.3)
                self.to(back, 1.2)
        self.to(door)
        if zone == "Stockroom":
            self.to((23.75, AISLE_Y))
        return first[0], self.t

    def checkout(self, wait: float, pay: float) -> None:
        q, till = ZONE["Checkout queue"], ZONE["Checkout"]
        x = float(self.rng.uniform(q.x0 + 1, q.x1 - 1))
        self.aisle_to(x)
        self.to((x, q.y1 - 0.5))
        for y in np.linspace(q.y1 - 0.5, q.y0 + 0.5, 4)[1:]:  # shuffle forward, pausing
            self.stay(wait / 3)
            self.to((x + float(self.rng.uniform(-0.3, 0.3)), float(y)), 0.4)
        self.to((float(self.rng.uniform(till.x0 + 0.8, till.x1 - 0.8)), till.y1 - 0.5))
        self.s.till_visits.append(self.t)
        self.stay(pay)
        self.to((20.0, 2.0))
        self.to((28.0, 1.5))
        self.stay(1.0)

    def leave(self) -> None:
        self.aisle_to(28.0)
        self.to((28.0, 1.0))
        self.stay(1.0)


def _section_dwell(rng: np.random.Generator, zone: str) -> float:
    dwell = float(np.exp(rng.normal(np.log(50), 0.6)))
    return float(np.clip(dwell, 6, 110 if zone == "Electronics" else 240))  # 6-10 s: bounces


def _shop(
    w: _Walker, rng: np.random.Generator, sections: list[str], electronics_s: float | None = None
) -> None:
    for zone in sections:
        dwell = electronics_s if zone == "Electronics" and electronics_s else _section_dwell(rng, zone)
        w.visit(zone, dwell)


def _enter(script: Script, t0: float, rng: np.random.Generator, loiter: float = 0.0) -> _Walker:
    w = _Walker(script, t0, (float(rng.uniform(1.5, 2.5)), 0.6), float(rng.uniform(0.9, 1.5)), rng)
    if loiter:
        w.browse("Entrance", loiter)  # margin 0.6 keeps them inside the 4 x 3 m entrance
    w.to((w.p[0], AISLE_Y))
    return w


def _buy(w: _Walker, rng: np.random.Generator, hour: float) -> None:
    busy = 1.0 + 0.8 * float(HOURLY_WEIGHTS[min(int(hour), OPEN_HOURS - 1)] / HOURLY_WEIGHTS.max())
    wait = float(np.clip(rng.exponential(35 * busy) + 15, 20, 300))
    w.checkout(wait, float(rng.uniform(30, 90)))


def _others(rng: np.random.Generator, k: int) -> list[str]:
    pool = [s for s in SECTIONS if s != "Electronics"]
    return list(rng.choice(pool, size=k, replace=False))


def make_script(shopper_id: int, kind: str, rule: str | None, t0: float, rng: np.random.Generator) -> Script:
    """Build one person's script starting at ``t0`` seconds after opening."""
    s = Script(shopper_id, kind, rule)
    hour = t0 / 3600
    if kind in ("staff_manual", "staff_rule"):
        w = _enter(s, t0, rng)
        w.visit(
            "Staff room", float(rng.uniform(60, 100) if kind == "staff_manual" else rng.uniform(150, 300))
        )
        w.visit("Stockroom", float(rng.uniform(60, 120)))
        w.visit("Electronics", float(rng.uniform(350, 500)))  # restocking: long, but staff are not flagged
        w.visit("Produce", float(rng.uniform(150, 300)))
        w.visit("Staff room", float(rng.uniform(60, 100)))
        w.leave()
        return s
    if kind == "normal":
        w = _enter(s, t0, rng)
        k = int(rng.integers(1, 4))
        sections = _others(rng, k)
        wants_electronics = rng.random() < 0.2
        if wants_electronics:
            sections.insert(int(rng.integers(0, len(sections) + 1)), "Electronics")
        _shop(w, rng, sections)
        if wants_electronics or rng.random() < 0.8:
            _buy(w, rng, hour)
        else:
            w.leave()
        return s
    suspicious = kind == "suspicious"
    loiter = 0.0
    if rule == "loitering":
        loiter = float(rng.uniform(120, 200) if suspicious else rng.uniform(40, 60))
    w = _enter(s, t0, rng, loiter)
    before = _others(rng, 1)
    _shop(w, rng, before)
    if rule == "long_dwell":
        w.visit("Electronics", float(rng.uniform(420, 600) if suspicious else rng.uniform(130, 160)))
        _buy(w, rng, hour)
    elif rule == "repeated_returns":
        n = int(rng.integers(3, 5)) if suspicious else 1
        for i in range(n):
            w.visit("Electronics", float(rng.uniform(30, 60)))
            if i < n - 1:
                _shop(w, rng, _others(rng, 1))
        if not suspicious:  # near miss: a second visit of three entries joined by short step-outs
            _shop(w, rng, _others(rng, 1))
            w.visit("Electronics", float(rng.uniform(60, 90)), step_outs=2)
        _buy(w, rng, hour)
    elif rule == "checkout_bypass":
        w.visit("Electronics", float(rng.uniform(60, 110)))
        if suspicious:
            w.leave()
        else:  # pays, then goes back for bread: the till visit comes after the high-value visit
            _buy_then(w, rng, hour)
    elif rule == "restricted_entry":
        if suspicious:
            w.visit("Stockroom" if shopper_id % 2 else "Staff room", float(rng.uniform(20, 40)))
        else:  # waits in the corridor beside the staff room door, outside every zone
            w.aisle_to(23.75)
            w.to((23.75, 13.5))
            w.stay(float(rng.uniform(30, 60)))
            w.to((23.75, AISLE_Y))
        _buy(w, rng, hour)
    elif rule == "loitering":
        _buy(w, rng, hour)
    elif rule == "pose_concealment":
        zone = "Electronics" if suspicious or shopper_id % 2 else "Bakery"
        t_in, _ = w.visit(zone, float(rng.uniform(60, 100)))
        length = float(rng.uniform(6, 10) if suspicious or zone == "Bakery" else rng.uniform(1.2, 2.2))
        start = t_in + float(rng.uniform(10, 30))
        s.pose_windows.append((start, start + length))
        _buy(w, rng, hour)
    return s


def _buy_then(w: _Walker, rng: np.random.Generator, hour: float) -> None:
    """Pay, then walk back up to the bakery and leave without paying again."""
    q, till = ZONE["Checkout queue"], ZONE["Checkout"]
    x = float(rng.uniform(q.x0 + 1, q.x1 - 1))
    w.aisle_to(x)
    w.to((x, q.y1 - 0.5))
    w.stay(float(rng.uniform(20, 60)))
    w.to((x, till.y1 - 0.5), 0.5)
    w.s.till_visits.append(w.t)
    w.stay(float(rng.uniform(30, 60)))
    w.to((20.0, 2.0))
    w.to((20.0, AISLE_Y))
    w.visit("Bakery", float(rng.uniform(30, 60)))
    w.leave()


def arrival_times(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` arrival times (s since opening) following :data:`HOURLY_WEIGHTS`, leaving an hour before close."""
    hours = rng.choice(OPEN_HOURS - 1, size=n, p=HOURLY_WEIGHTS[:-1] / HOURLY_WEIGHTS[:-1].sum())
    return np.sort(hours * 3600 + rng.uniform(0, 3600, size=n))


def zone_intervals(knots: np.ndarray) -> dict[str, list[tuple[float, float]]]:
    """Exact in-zone time intervals of a piecewise-linear path (Liang-Barsky clipping per straight piece).

    Args:
        knots: (K, 3) array of (t, x, y).

    Returns:
        zone name -> sorted, non-touching (start, end) intervals in seconds.
    """
    t0, t1 = knots[:-1, 0], knots[1:, 0]
    p0, p1 = knots[:-1, 1:], knots[1:, 1:]
    d = p1 - p0
    out: dict[str, list[tuple[float, float]]] = {}
    for z in ZONES:
        lo_t = np.zeros(len(d))
        hi_t = np.ones(len(d))
        for axis, (lo, hi) in enumerate(((z.x0, z.x1), (z.y0, z.y1))):
            still = np.abs(d[:, axis]) < 1e-12
            inside = (p0[:, axis] > lo) & (p0[:, axis] < hi)
            with np.errstate(divide="ignore", invalid="ignore"):
                a = (lo - p0[:, axis]) / d[:, axis]
                b = (hi - p0[:, axis]) / d[:, axis]
            lo_t = np.where(still, np.where(inside, lo_t, 1.0), np.maximum(lo_t, np.minimum(a, b)))
            hi_t = np.where(still, np.where(inside, hi_t, 0.0), np.minimum(hi_t, np.maximum(a, b)))
        hit = hi_t > lo_t
        spans = []
        for s, e in zip((t0 + lo_t * (t1 - t0))[hit], (t0 + hi_t * (t1 - t0))[hit]):
            if spans and s - spans[-1][1] <= 1e-6:
                spans[-1] = (spans[-1][0], float(e))
            else:
                spans.append((float(s), float(e)))
        if spans:
            out[z.name] = spans
    return out


def visits_from_intervals(
    intervals: list[tuple[float, float]], merge_gap_s: float, min_dwell_s: float
) -> list[tuple[float, float]]:
    """The visit definition of ``zones.visits`` applied to exact intervals: gaps < ``merge_gap_s`` join,
    visits shorter than ``min_dwell_s`` are dropped."""
    merged: list[tuple[float, float]] = []
    for s, e in intervals:
        if merged and s - merged[-1][1] < merge_gap_s:
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return [(s, e) for s, e in merged if e - s >= min_dwell_s]
