"""Assign every tracklet of a store a global shopper id (online gallery, then offline refinement).

Online (:func:`assign_online`): tracklets are taken in the order they finished, in small batches of
those finishing together. Each batch is matched to the known shoppers by one linear assignment
(``min_cost_matching`` of the tracker, so a shopper takes at most one tracklet per batch) on the
cosine distance to the shopper's nearest gallery view; in mode ``full`` a pair that is impossible in
space or time (:mod:`pipeline.reid.constraints`) is gated out. A match above ``match_threshold``
is refused; an unmatched tracklet becomes a new shopper, stored in the gallery for later comparison.

Offline (:mod:`pipeline.reid.refine`, mode ``full`` with ``refine``): constrained agglomerative
clustering of all tracklets replaces the online decisions.

:func:`run_reid` does it on a database: read the finished tracklets, assign, and rewrite
``tracklets.shopper_id``, ``shoppers``, ``shopper_embeddings`` and ``trajectory`` in one transaction.
It is idempotent: shopper ids are kept where the new shoppers overlap the old ones, and staff flags
set by hand survive.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import duckdb
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.optimize import linear_sum_assignment

from pipeline.db import shoppers as db
from pipeline.db.store_config import stored_config
from pipeline.reid.calibrate import Calibration, calibrate
from pipeline.reid.constraints import feasibility_matrix, sequence_feasible, unique_handoffs
from pipeline.reid.gallery import Shopper, gallery_distance, join, new_shopper
from pipeline.reid.refine import constrained_agglomerative
from pipeline.reid.settings import REID_MODES, ReidConfig
from pipeline.reid.split import split_chunks, split_threshold
from pipeline.reid.tracklet import Tracklet
from pipeline.tracking.matching import INFTY_COST, min_cost_matching

log = logging.getLogger(__name__)

BATCH_SECONDS = 1.0  # tracklets finishing this close together are matched jointly
SAMPLE_SECONDS = 0.25  # positions kept per tracklet for the space/time checks


def _check_mode(mode: str) -> None:
    if mode not in REID_MODES:
        raise ValueError(f"unknown reid mode {mode!r}; valid modes: {', '.join(REID_MODES)}")


def _batches(tracklets: Sequence[Tracklet]) -> list[list[int]]:
    """Tracklet indices in finishing order, grouped by finishing within ``BATCH_SECONDS`` of a batch's first."""
    order = sorted(range(len(tracklets)), key=lambda i: (tracklets[i].t_end, tracklets[i].t_start, i))
    batches: list[list[int]] = []
    for i in order:
        if batches and tracklets[i].t_end - tracklets[batches[-1][0]].t_end <= BATCH_SECONDS:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


def assign_online(
    tracklets: Sequence[Tracklet],
    config: ReidConfig,
    mode: str = "full",
    feasible: npt.NDArray[np.bool_] | None = None,
) -> tuple[npt.NDArray[np.int64], list[Shopper]]:
    """The online gallery's decisions.

    Args:
        tracklets: every tracklet of the run.
        config: thresholds and constraints.
        mode: ``independent`` (one shopper per tracklet), ``appearance`` or ``full`` (+ space/time).
        feasible: ``feasibility_matrix(tracklets, config)`` when the caller has it (computed otherwise).

    Returns:
        ``(labels, shoppers)``: (N,) shopper index per tracklet, and the gallery.
    """
    _check_mode(mode)
    config = _with_thresholds(config)
    n = len(tracklets)
    if n == 0:
        return np.zeros(0, np.int64), []  # Nothing to assign.
    if mode == "independent":
        shoppers = [new_shopper(i, t.embedding) for i, t in enumerate(tracklets)]
        return np.arange(n, dtype=np.int64), shoppers
    if mode != "full":
        feasible = None
    elif feasible is None:
        feasible = feasibility_matrix(tracklets, config)
    scale = handoff_scale(tracklets, config, feasible) if feasible is not None else None
    shoppers: list[Shopper] = []
    merge_distance = config.match_threshold / 2
    margin = config.match_margin * config.match_threshold

    def distance(
        gallery: list[Shopper], batch: list[int], shopper_indices: list[int], batch_indices: list[int]
    ):
        """(S, B) gallery distance, ``INFTY_COST`` where space/time forbid the pair (mode full)."""
        cost = gallery_distance(
            [gallery[s] for s in shopper_indices], [tracklets[batch[b]].embedding for b in batch_indices]
        )
        if feasible is None:
            return refuse_ambiguous(cost, margin)
        for r, s in enumerate(shopper_indices):
            members = list(gallery[s].members)
            for c, b in enumerate(batch_indices):
                i = batch[b]
                if cost[r, c] < INFTY_COST and not (
                    feasible[i, members].all()
                    and sequence_feasible([tracklets[m] for m in (*members, i)], config)
                ):
                    cost[r, c] = INFTY_COST
                elif cost[r, c] < INFTY_COST:
                    cost[r, c] *= scale[i, members].min()  # a unique hand-off from one of its members
        return refuse_ambiguous(cost, margin)

    for batch in _batches(tracklets):
        matches, _, unmatched = min_cost_matching(distance, config.match_threshold, shoppers, batch)
        for s, b in matches:
            shoppers[s] = join(
                shoppers[s], batch[b], tracklets[batch[b]].embedding, config.max_views, merge_distance
            )
        for b in unmatched:
            shoppers.append(new_shopper(batch[b], tracklets[batch[b]].embedding))
    labels = np.empty(n, np.int64)
    for k, s in enumerate(shoppers):
        labels[list(s.members)] = k
    return labels, shoppers


def refuse_ambiguous(cost: npt.NDArray[np.float64], margin: float) -> npt.NDArray[np.float64]:
    """``cost`` with ambiguous pairs gated out (:data:`INFTY_COST`).

    A tracklet whose best shopper is not at least ``margin`` closer than its second best could be either
    of two different people: it is joined to neither (it starts a shopper of its own). Likewise a
    shopper with two nearly equally close tracklets in one batch takes neither.
    """
    if margin <= 0 or cost.size == 0:
        return cost
    out = cost.copy()
    for axis in (0, 1):
        finite = np.where(cost < INFTY_COST, cost, np.inf)
        if finite.shape[axis] < 2:
            continue
        two = np.sort(finite, axis=axis).take([0, 1], axis=axis)
        best, second = two.take(0, axis=axis), two.take(1, axis=axis)
        with np.errstate(invalid="ignore"):  # inf - inf where a row/column has no candidate at all
            ambiguous = np.isfinite(second) & (second - best < margin)
        if axis == 0:
            out[:, ambiguous] = np.where(
                cost[:, ambiguous] < best[ambiguous] + margin, INFTY_COST, out[:, ambiguous]
            )
        else:
            out[ambiguous, :] = np.where(
                cost[ambiguous, :] < best[ambiguous, None] + margin, INFTY_COST, out[ambiguous, :]
            )
    return out


def gallery_of(
    labels: npt.NDArray[np.int64], tracklets: Sequence[Tracklet], config: ReidConfig
) -> list[Shopper]:
    """Rebuild the gallery (views per shopper) for given labels, members added in finishing order."""
    config = _with_thresholds(config)
    shoppers: dict[int, Shopper] = {}
    for i in sorted(range(len(tracklets)), key=lambda i: (tracklets[i].t_end, i)):
        label = int(labels[i])
        emb = tracklets[i].embedding
        if label not in shoppers:
            shoppers[label] = new_shopper(i, emb)
        else:
            shoppers[label] = join(shoppers[label], i, emb, config.max_views, config.match_threshold / 2)
    return [shoppers[k] for k in sorted(shoppers)]


def _with_thresholds(config: ReidConfig) -> ReidConfig:
    return (
        config
        if config.match_threshold is not None and config.refine_threshold is not None
        else (config.for_embedder(None))
    )


def refine(
    tracklets: Sequence[Tracklet], config: ReidConfig, feasible: npt.NDArray[np.bool_] | None = None
) -> npt.NDArray[np.int64]:
    """Offline constrained agglomerative clustering of all tracklets (see :mod:`pipeline.reid.refine`);
    ``feasible`` as in :func:`assign_online`."""
    config = _with_thresholds(config)
    if feasible is None:
        feasible = feasibility_matrix(tracklets, config)

    def group_ok(members: list[int]) -> bool:
        return sequence_feasible([tracklets[m] for m in members], config)

    return constrained_agglomerative(
        [t.embedding for t in tracklets],
        feasible,
        config.refine_threshold,
        group_ok,
        config.match_margin * config.refine_threshold,
        handoff_scale(tracklets, config, feasible),
    )


def handoff_scale(
    tracklets: Sequence[Tracklet], config: ReidConfig, feasible: npt.NDArray[np.bool_]
) -> npt.NDArray[np.float64]:
    """(N, N) distance factors: ``config.handoff_discount`` on unique hand-offs
    (:func:`pipeline.reid.constraints.unique_handoffs`), 1 elsewhere."""
    unique = unique_handoffs(tracklets, config, feasible)
    return np.where(unique, config.handoff_discount, 1.0)


@dataclass(frozen=True)
class Assignment:
    """Shopper label (0..S-1) per tracklet, the gallery, and how refinement changed the online result."""

    labels: npt.NDArray[np.int64]
    shoppers: list[Shopper]
    online_shoppers: int
    refined: bool


def assign(
    tracklets: Sequence[Tracklet],
    config: ReidConfig,
    mode: str = "full",
    refine_pass: bool | None = None,
    feasible: npt.NDArray[np.bool_] | None = None,
) -> Assignment:
    """Online gallery, then (mode ``full`` and ``refine_pass``, default ``config.refine``) refinement; the
    space/time feasibility (``feasible``, computed when not given) is shared by both."""
    _check_mode(mode)
    if mode == "full" and feasible is None and len(tracklets):
        feasible = feasibility_matrix(tracklets, config)
    labels, shoppers = assign_online(tracklets, config, mode, feasible)
    do_refine = (config.refine if refine_pass is None else refine_pass) and mode == "full"
    if not do_refine or len(tracklets) == 0:
        return Assignment(labels, shoppers, len(shoppers), False)
    refined = refine(tracklets, config, feasible)
    return Assignment(refined, gallery_of(refined, tracklets, config), len(shoppers), True)


# ------------------------------------------------------------------------------ database


def load_tracklets(
    conn: duckdb.DuckDBPyConnection, split: bool = False
) -> tuple[list[Tracklet], pd.DataFrame]:
    """Finished tracklets as :class:`Tracklet` (and their table rows, same order; ``rows.attrs['embedder']``
    is the embedder whose features are used).

    Tracklets embedded by an embedder other than the most common one get no embedding (features of
    different models are not comparable); they still take part through space and time.

    Args:
        split: cut tracks at identity switches (:mod:`pipeline.reid.split`, on their appearance chunks):
            each part is a tracklet of its own, and ``rows`` has one row per part (columns ``part``,
            ``part_first``, ``part_last``; ``shopper_id`` is the part's current shopper).
    """
    rows = db.done_tracklets(conn)
    if rows.empty:
        return [], rows.assign(part=pd.Series(dtype="int64"))
    embedders = rows["embedder"].dropna()
    main = embedders.mode().iloc[0] if len(embedders) else None
    mixed = rows["embedder"].notna() & (rows["embedder"] != main)
    if mixed.any():
        log.warning(
            "%d tracklets embedded by another embedder than %r are matched by space/time only",
            mixed.sum(),
            main,
        )
    threshold = split_threshold(main) if split else None
    starts = _part_starts(conn, threshold) if threshold is not None else {}
    old_parts = {k: g for k, g in db.current_parts(conn).groupby(["video_id", "track_id"])} if starts else {}
    points = db.tracklet_positions(conn)
    by_key = {k: g for k, g in points.groupby(["video_id", "track_id"], sort=False)}
    tracklets = []
    out_rows = []
    for r in rows.itertuples(index=False):
        key = (int(r.video_id), int(r.track_id))
        g = by_key.get(key)
        emb = None
        if r.embedding is not None and r.embedder == main and len(r.embedding):
            emb = np.asarray(r.embedding, np.float32)
        first, last = int(r.first_frame), int(r.last_frame)
        parts = starts.get(key, [])
        bounds = [first, *(p[1] for p in parts[1:]), last + 1]
        for part in range(len(bounds) - 1):
            lo, hi = bounds[part], bounds[part + 1] - 1
            # A part's first chunk may hold the switch itself: its positions (a mix of two people) are left
            # out of the space/time samples when the part has more.
            seen = parts[part][2] if part > 0 else lo
            sub = g if g is None or len(bounds) == 2 else g[(g["frame"] >= seen) & (g["frame"] <= hi)]
            if sub is None or sub.empty:
                samples = np.array([[r.t_start, 0.0, 0.0]])
                space = "image"
                n_points = int(r.n_points) if len(bounds) == 2 else 1
                t0, t1 = float(r.t_start), max(float(r.t_end), float(r.t_start))
            else:
                samples = _thin(sub)
                space = "floor" if bool(sub["on_floor"].all()) else "image"
                n_points = (
                    int(r.n_points)
                    if len(bounds) == 2
                    else int(((g["frame"] >= lo) & (g["frame"] <= hi)).sum())
                )
                t0, t1 = (
                    (float(r.t_start), max(float(r.t_end), float(r.t_start)))
                    if len(bounds) == 2
                    else (float(sub["t"].iloc[0]), float(sub["t"].iloc[-1]))
                )
            part_emb = emb if len(bounds) == 2 or emb is None else parts[part][0]
            tracklets.append(
                Tracklet(
                    key=key,
                    camera=str(r.camera),
                    t_start=t0,
                    t_end=t1,
                    embedding=part_emb,
                    samples=samples,
                    space=space,
                    n_points=n_points,
                    part=part,
                    first_frame=lo,
                    last_frame=hi,
                )
            )
            old = r.shopper_id
            if key in old_parts:
                o = old_parts[key]
                overlap = (np.minimum(o["last_frame"], hi) - np.maximum(o["first_frame"], lo)).clip(lower=-1)
                if overlap.max() >= 0:
                    old = o["shopper_id"].iloc[int(np.argmax(overlap.to_numpy()))]
            out_rows.append(
                {**r._asdict(), "shopper_id": old, "part": part, "part_first": lo, "part_last": hi}
            )
    table = pd.DataFrame(out_rows)
    table.attrs["embedder"] = main
    return tracklets, table


def _thin(g: pd.DataFrame) -> npt.NDArray[np.float64]:
    """(K, 3) ``(t, x, y)``: one sample per ``SAMPLE_SECONDS``, always keeping the first and last point."""
    bucket = np.floor(g["t"].to_numpy() / SAMPLE_SECONDS)
    keep = np.ones(len(g), bool)
    keep[1:] = bucket[1:] != bucket[:-1]
    keep[-1] = True
    return g[["t", "x", "y"]].to_numpy(np.float64)[keep]


def _part_starts(
    conn: duckdb.DuckDBPyConnection, threshold: float
) -> dict[tuple[int, int], list[tuple[npt.NDArray[np.float32] | None, int, int]]]:
    """Tracks split at an identity switch -> per part (mean embedding, first frame, first frame of its second
    chunk or its first frame when it has one chunk), in time order."""
    out = {}
    for key, g in db.tracklet_chunks(conn).groupby(["video_id", "track_id"]):
        embs = [None if e is None or len(e) == 0 else np.asarray(e, np.float64) for e in g["embedding"]]
        starts = split_chunks(embs, threshold)
        if len(starts) < 2:
            continue
        parts = []
        n = g["n_embedded"].to_numpy()
        frames = g["first_frame"].to_numpy()
        for a, b in zip(starts, [*starts[1:], len(embs)]):
            members = [embs[i] * max(int(n[i]), 1) for i in range(a, b) if embs[i] is not None]
            total = np.sum(members, axis=0) if members else None
            mean = None if total is None else (total / max(np.linalg.norm(total), 1e-12)).astype(np.float32)
            parts.append((mean, int(frames[a]), int(frames[a + 1] if b - a > 1 else frames[a])))
        out[(int(key[0]), int(key[1]))] = parts
    return out


def stable_ids(
    old_ids: Sequence[int | None], labels: npt.NDArray[np.int64], weights: Sequence[float]
) -> dict[int, int | None]:
    """Which old shopper id each new label keeps: max-overlap one-to-one matching (``None`` = new id).

    Overlap is the summed ``weights`` (points) of the tracklets a label shares with an old id, so
    re-running the same assignment keeps every id.
    """
    old = sorted({int(o) for o in old_ids if o is not None and not pd.isna(o)})
    new = sorted({int(label) for label in labels})
    out: dict[int, int | None] = dict.fromkeys(new)
    if not old or not new:
        return out
    o_idx = {o: k for k, o in enumerate(old)}
    n_idx = {n: k for k, n in enumerate(new)}
    overlap = np.zeros((len(new), len(old)))
    for o, label, w in zip(old_ids, labels, weights):
        if o is not None and not pd.isna(o):
            overlap[n_idx[int(label)], o_idx[int(o)]] += w
    rows, cols = linear_sum_assignment(-overlap)
    for r, c in zip(rows, cols):
        if overlap[r, c] > 0:
            out[new[r]] = old[c]
    return out


def staff_flags(
    old_ids: Sequence[int | None],
    labels: npt.NDArray[np.int64],
    weights: Sequence[float],
    kept: dict[int, int | None],
    old_shoppers: pd.DataFrame,
) -> dict[int, tuple[bool, str | None]]:
    """``(is_staff, staff_source)`` per new label.

    A flag set by hand (``staff_source = 'manual'``) follows the tracklets: a new shopper takes the
    manual flag of the old shopper it shares the most points with among manually flagged ones. Other
    flags (the zone rule) stay with the kept id; ``analyse`` recomputes them.
    """
    info = {
        int(r.shopper_id): (bool(r.is_staff), r.staff_source) for r in old_shoppers.itertuples(index=False)
    }
    manual_points: dict[int, dict[int, float]] = {}
    for o, label, w in zip(old_ids, labels, weights):
        if o is None or pd.isna(o):
            continue
        flag = info.get(int(o))
        if flag is not None and flag[1] == "manual":
            by_old = manual_points.setdefault(int(label), {})
            by_old[int(o)] = by_old.get(int(o), 0.0) + w
    out: dict[int, tuple[bool, str | None]] = {}
    for label, old in kept.items():
        if label in manual_points:
            best = max(manual_points[label].items(), key=lambda kv: (kv[1], -kv[0]))[0]
            out[label] = (info[best][0], "manual")
        elif old is not None and old in info and info[old][1] is not None:
            out[label] = (info[old][0], info[old][1])
        else:
            out[label] = (False, None)
    return out


@dataclass(frozen=True)
class ReidSummary:
    mode: str
    refined: bool
    n_tracklets: int
    n_shoppers: int
    online_shoppers: int
    cameras: int
    match_threshold: float | None = None
    calibration: Calibration | None = None


def site_calibration(
    conn: duckdb.DuckDBPyConnection,
    tracklets: Sequence[Tracklet],
    config: ReidConfig,
    embedder: str,
    recompute: bool | None = None,
    feasible: npt.NDArray[np.bool_] | None = None,
) -> Calibration:
    """The stored on-site calibration of ``embedder``, fitted and stored first when there is none (or
    ``recompute``); see :mod:`pipeline.reid.calibrate`. ``feasible`` as in :func:`assign_online`."""
    if not recompute:
        stored = db.load_calibration(conn, embedder)
        if len(stored) and float(stored["target_false_join"].iloc[0]) == config.target_false_join:
            row = stored.iloc[0]
            threshold = None if pd.isna(row["threshold"]) else float(row["threshold"])
            return Calibration(
                threshold,
                str(row["source"]),
                float(row["target_false_join"]),
                int(row["n_same"]),
                int(row["n_diff"]),
                None if pd.isna(row["est_false_join"]) else float(row["est_false_join"]),
                None if pd.isna(row["est_join"]) else float(row["est_join"]),
                str(row["note"]),
            )
    chunks: dict[tuple[int, int], list] = {}
    for r in db.tracklet_chunks(conn).itertuples(index=False):
        emb = None if r.embedding is None or len(r.embedding) == 0 else np.asarray(r.embedding, np.float64)
        chunks.setdefault((int(r.video_id), int(r.track_id)), []).append(
            (float(r.t_start), float(r.t_end), emb, int(r.n_embedded))
        )
    if feasible is None and tracklets:
        feasible = feasibility_matrix(tracklets, config)  # space/time only: thresholds play no part
    result = calibrate(tracklets, chunks, config.target_false_join, feasible)
    db.save_calibration(conn, embedder, asdict(result))
    log.info("cross-camera threshold (%s): %s", embedder, result.note)
    return result


def run_reid(
    conn: duckdb.DuckDBPyConnection,
    config: ReidConfig | None = None,
    mode: str = "full",
    refine: bool | None = None,
    calibrate: bool | None = None,
) -> ReidSummary:
    """Recompute every global shopper id of a processed store and write them (one transaction).

    Args:
        conn: an open store database.
        config: re-ID parameters (default: the ``reid:`` of the store config saved in the database).
        mode: ``independent``, ``appearance`` or ``full``.
        refine: run the offline refinement in mode ``full`` (default: ``config.refine``).
        calibrate: refit the on-site match threshold (``True``; e.g. after new footage), reuse the stored
            one (``None``: fitted once if none is stored), or ignore calibration (``False``: built-in table).
            An explicit ``reid.match_threshold`` always wins.
    """
    _check_mode(mode)
    if config is None:
        config = stored_reid_config(conn)
    tracklets, rows = load_tracklets(conn, split=mode != "independent")
    embedder = rows.attrs.get("embedder")
    calibration = None
    # One space/time feasibility matrix (O(N^2)) for calibration, the online gallery and refinement.
    feasible = feasibility_matrix(tracklets, config) if mode == "full" and tracklets else None
    if config.match_threshold is None and embedder is not None and calibrate is not False:
        calibration = site_calibration(
            conn, tracklets, config, embedder, recompute=calibrate, feasible=feasible
        )
    config = config.for_embedder(embedder, calibration.threshold if calibration else None)
    result = assign(tracklets, config, mode, refine, feasible)
    old_ids = rows["shopper_id"].tolist() if len(rows) else []
    weights = [t.n_points for t in tracklets]
    kept = stable_ids(old_ids, result.labels, weights)
    fresh = iter(db.next_shopper_ids(conn, sum(v is None for v in kept.values())))
    ids = {label: (old if old is not None else next(fresh)) for label, old in sorted(kept.items())}
    flags = staff_flags(old_ids, result.labels, weights, kept, db.current_shoppers(conn))
    parts = pd.DataFrame(
        {
            "video_id": [t.key[0] for t in tracklets],
            "track_id": [t.key[1] for t in tracklets],
            "part": [t.part for t in tracklets],
            "first_frame": [t.first_frame for t in tracklets],
            "last_frame": [t.last_frame for t in tracklets],
            "shopper_id": [ids[int(label)] for label in result.labels],
            "n_points": weights,
        }
    )
    # A split track's own shopper id is its largest part's; its points take their part's (tracklet_parts).
    table = (
        parts.sort_values(["n_points", "part"], ascending=[False, True], kind="stable")
        .drop_duplicates(["video_id", "track_id"])
        .sort_values(["video_id", "track_id"])
    )
    split_keys = parts.groupby(["video_id", "track_id"])["part"].transform("max") > 0
    shoppers = pd.DataFrame(
        [(ids[label], flags[label][0], flags[label][1]) for label in sorted(ids)],
        columns=["shopper_id", "is_staff", "staff_source"],
    )
    views = [
        (ids[int(result.labels[s.members[0]])], k, float(w), v.tolist())
        for s in result.shoppers
        for k, (v, w) in enumerate(zip(s.views, s.weights))
    ]
    settings = {k: v for k, v in asdict(config).items() if k not in ("adjacency", "transit_time")}
    settings["adjacency"] = {k: sorted(v) for k, v in config.adjacency.items()}
    settings["transit_time"] = {f"{a}->{b}": list(w) for (a, b), w in config.transit_time.items()}
    state = {
        "mode": mode,
        "refine": result.refined,
        "settings": settings,
        "n_tracklets": len(tracklets),
        "n_shoppers": len(ids),
    }
    db.write_assignment(
        conn,
        table,
        shoppers,
        pd.DataFrame(views, columns=["shopper_id", "view", "weight", "embedding"]),
        state,
        parts[split_keys.to_numpy()],
    )
    return ReidSummary(
        mode,
        result.refined,
        len(tracklets),
        len(ids),
        result.online_shoppers,
        len({t.camera for t in tracklets}),
        config.match_threshold,
        calibration,
    )


def stored_reid_config(conn: duckdb.DuckDBPyConnection) -> ReidConfig:
    """The ``reid:`` settings of the store config saved in the database (defaults if none)."""
    config = stored_config(conn)
    return ReidConfig() if config is None else config.reid
