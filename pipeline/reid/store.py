"""Cross-camera identity on a store database: read the finished tracklets, assign, write the shoppers.

:func:`run_reid` reads the finished tracklets (:func:`load_tracklets`), assigns them with
:mod:`pipeline.reid.assign`, and rewrites ``tracklets.shopper_id``, ``shoppers``,
``shopper_embeddings`` and ``trajectory`` in one transaction. It is idempotent: shopper ids are kept
where the new shoppers overlap the old ones, and staff flags set by hand survive.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import duckdb
import numpy as np
import numpy.typing as npt
import pandas as pd

from pipeline.db import shoppers as db
from pipeline.db.store_config import stored_config
from pipeline.reid.assign import assign, check_mode, stable_ids, staff_flags
from pipeline.reid.calibrate import Calibration, calibrate
from pipeline.reid.constraints import feasibility_matrix
from pipeline.reid.settings import ReidConfig
from pipeline.reid.split import split_chunks, split_threshold
from pipeline.reid.tracklet import Tracklet

log = logging.getLogger(__name__)

SAMPLE_SECONDS = 0.25  # positions kept per tracklet for the space/time checks


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
            in_part = g if g is None or len(bounds) == 2 else g[(g["frame"] >= lo) & (g["frame"] <= hi)]
            observed = None if in_part is None else _observed_times(in_part)
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
                    observed=observed,
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


def _observed_times(g: pd.DataFrame) -> npt.NDArray[np.float64] | None:
    """Times of the boxes the detector found (``None`` when it found every one)."""
    seen = g["observed"].to_numpy(bool)
    return None if seen.all() else g["t"].to_numpy(np.float64)[seen]


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
    chunk or its first frame when it has one chunk), in time order. A split needs a place where the
    tracker could have switched people (:func:`pipeline.db.shoppers.chunk_contacts`, see
    :mod:`pipeline.reid.split`)."""
    tracks = {
        (int(k[0]), int(k[1])): (
            g,
            [None if e is None or len(e) == 0 else np.asarray(e, np.float64) for e in g["embedding"]],
        )
        for k, g in db.tracklet_chunks(conn).groupby(["video_id", "track_id"])
    }
    changed = [k for k, (_, embs) in tracks.items() if len(split_chunks(embs, threshold)) > 1]
    if not changed:
        return {}
    contacts = db.chunk_contacts(conn, pd.DataFrame(changed, columns=["video_id", "track_id"]))
    touched = {(int(r.video_id), int(r.track_id)): set() for r in contacts.itertuples(index=False)}
    for r in contacts[contacts["contact"]].itertuples(index=False):
        touched[(int(r.video_id), int(r.track_id))].add(int(r.chunk))
    out = {}
    for key in changed:
        g, embs = tracks[key]
        chunk_ids = g["chunk"].to_numpy()
        near = touched.get(key, set())

        def switch_possible(i: int, ids=chunk_ids, near=near) -> bool:
            # The switch falls in chunk i or the one before (the split waits for chunk i to confirm it).
            return int(ids[i]) in near or (i > 0 and int(ids[i - 1]) in near)

        starts = split_chunks(embs, threshold, switch_possible)
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
        out[key] = parts
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
    check_mode(mode)
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
