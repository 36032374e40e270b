"""On-site training of the ``siamese`` and ``vae`` embedders.

- :mod:`~pipeline.training.dataset`: :class:`CropSet` (crops + group labels + "known different" pairs)
  and the Market-1501 folder reader.
- :mod:`~pipeline.training.mining`: crops mined from a processed store database (or MOT ground truth)
  without labels: one confident tracklet = one person; tracklets overlapping in time in one camera =
  different people.
- :mod:`~pipeline.training.losses`: batch-hard triplet and contrastive losses that only use known pairs.
- :mod:`~pipeline.training.trainer`: seeded training loops, model files, loss-curve PNG.
"""
