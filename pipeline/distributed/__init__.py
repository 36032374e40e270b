"""Processing beyond one process: a video's time segments (:mod:`.segments`, pure, no Ray) and the Ray
executor for ``process --executor ray`` (:mod:`.ray_executor`, imports Ray). See docs/scale-out.md."""
