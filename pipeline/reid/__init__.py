"""Cross-camera re-identification: one global shopper id per person across every camera.

- :mod:`pipeline.reid.settings`: the store config's ``reid:`` mapping (:class:`ReidConfig`).
- :mod:`pipeline.reid.tracklet`: :class:`Tracklet`, what the assignment knows about a finished track.
- :mod:`pipeline.reid.constraints`: space/time feasibility (walking speed, simultaneity, adjacency).
- :mod:`pipeline.reid.gallery`: the multi-view shopper gallery and appearance distances.
- :mod:`pipeline.reid.assign`: assignment of tracklets to shoppers (online gallery, refinement), pure.
- :mod:`pipeline.reid.store`: ``run_reid`` on a database (reads tracklets, writes shoppers and trajectories).
- :mod:`pipeline.reid.refine`: offline constrained agglomerative clustering over a whole run.
"""
