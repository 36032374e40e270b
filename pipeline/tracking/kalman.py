"""Constant-velocity Kalman filter for person boxes in image space, with real time steps.

The state is 8-dimensional ``(u, v, a, h, vu, vv, va, vh)``: box centre ``(u, v)``, aspect ratio
``a = w / h``, height ``h`` and their velocities **per second**. The measurement is ``(u, v, a, h)``.

As in nwojke/deep_sort the filter object holds only model constants; every method takes ``(mean,
covariance)`` and returns new arrays, so one filter serves every track. Unlike deep_sort, ``predict``
takes the elapsed time ``dt`` in seconds: process noise grows linearly with ``dt`` (a random walk in
position and velocity), so a tracker fed every 3rd frame, or frames with jittery timestamps, keeps a
calibrated uncertainty. The noise constants reproduce deep_sort's per-frame values at 25 fps.

All methods broadcast over leading batch dimensions: ``mean`` may be ``(8,)`` or ``(T, 8)`` with
``covariance`` ``(8, 8)`` or ``(T, 8, 8)``, which keeps the tracker free of per-track Python loops.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# 0.95 quantile of the chi-square distribution with N degrees of freedom (N = 1..9), from
# scipy.stats.chi2.ppf(0.95, N). Used as the Mahalanobis gating threshold.
CHI2INV95: dict[int, float] = {
    1: 3.8415,
    2: 5.9915,
    3: 7.8147,
    4: 9.4877,
    5: 11.070,
    6: 12.592,
    7: 14.067,
    8: 15.507,
    9: 16.919,
}

_NDIM = 4


def xyxy_to_xyah(xyxy: npt.ArrayLike) -> FloatArray:
    """Convert (N, 4) or (4,) ``(x1, y1, x2, y2)`` boxes to ``(cx, cy, w / h, h)``."""
    b = np.asarray(xyxy, np.float64)
    w = b[..., 2] - b[..., 0]
    h = np.maximum(b[..., 3] - b[..., 1], 1e-6)
    return np.stack([(b[..., 0] + b[..., 2]) / 2, (b[..., 1] + b[..., 3]) / 2, w / h, h], axis=-1)


def xyah_to_xyxy(xyah: npt.ArrayLike) -> FloatArray:
    """Inverse of :func:`xyxy_to_xyah`; accepts (N, >=4) or (>=4,) arrays (extra columns ignored)."""
    s = np.asarray(xyah, np.float64)
    w = s[..., 2] * s[..., 3]
    h = s[..., 3]
    return np.stack([s[..., 0] - w / 2, s[..., 1] - h / 2, s[..., 0] + w / 2, s[..., 1] + h / 2], axis=-1)


class KalmanFilter:
    """Constant-velocity model for ``(u, v, a, h)`` boxes with time steps in seconds.

    Noise standard deviations are proportional to the box height ``h`` (pixels), as in deep_sort.

    Args:
        std_weight_position: measurement noise of the centre / height, as a fraction of ``h``.
        std_weight_process_position: position process noise, fraction of ``h`` per sqrt(second).
        std_weight_process_velocity: velocity process noise, fraction of ``h`` per second per
            sqrt(second).
        std_weight_init_velocity: initial velocity uncertainty, fraction of ``h`` per second.

    Raises:
        ValueError: a weight is not positive.

    Example:
        >>> kf = KalmanFilter()
        >>> mean, cov = kf.initiate(np.array([100.0, 200.0, 0.5, 80.0]))
        >>> mean, cov = kf.predict(mean, cov, dt=0.04)
        >>> mean, cov = kf.update(mean, cov, np.array([101.0, 200.0, 0.5, 80.0]))
    """

    def __init__(
        self,
        std_weight_position: float = 1.0 / 20,
        std_weight_process_position: float = 0.25,
        std_weight_process_velocity: float = 0.78,
        std_weight_init_velocity: float = 1.56,
    ) -> None:
        weights = {
            "std_weight_position": std_weight_position,
            "std_weight_process_position": std_weight_process_position,
            "std_weight_process_velocity": std_weight_process_velocity,
            "std_weight_init_velocity": std_weight_init_velocity,
        }
        for name, value in weights.items():
            if not value > 0:
                raise ValueError(f"{name} must be > 0, but got {value}")
        self.std_weight_position = float(std_weight_position)
        self.std_weight_process_position = float(std_weight_process_position)
        self.std_weight_process_velocity = float(std_weight_process_velocity)
        self.std_weight_init_velocity = float(std_weight_init_velocity)
        self._update_mat = np.eye(_NDIM, 2 * _NDIM)

    @staticmethod
    def motion_matrix(dt: float | npt.ArrayLike) -> FloatArray:
        """State transition ``F(dt)``: (8, 8), or (T, 8, 8) for a (T,) array of ``dt``."""
        dt = np.asarray(dt, np.float64)
        f = np.broadcast_to(np.eye(2 * _NDIM), (*dt.shape, 2 * _NDIM, 2 * _NDIM)).copy()
        idx = np.arange(_NDIM)
        f[..., idx, idx + _NDIM] = dt[..., None]
        return f

    def initiate(self, measurement: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Start a track from an unassociated ``(u, v, a, h)`` measurement.

        Args:
            measurement: (4,) or (N, 4) boxes in xyah.

        Returns:
            ``(mean, covariance)``: (..., 8) with zero velocity and (..., 8, 8) diagonal.
        """
        z = np.asarray(measurement, np.float64)
        mean = np.concatenate([z, np.zeros_like(z)], axis=-1)
        h = z[..., 3]
        one = np.ones_like(h)
        pos = 2 * self.std_weight_position
        vel = self.std_weight_init_velocity
        std = np.stack(
            [pos * h, pos * h, 1e-2 * one, pos * h, vel * h, vel * h, 2.5e-4 * one, vel * h], axis=-1
        )
        covariance = _diag(std**2)
        return mean, covariance

    def predict(
        self, mean: FloatArray, covariance: FloatArray, dt: float | npt.ArrayLike
    ) -> tuple[FloatArray, FloatArray]:
        """Propagate the state ``dt`` seconds ahead.

        Args:
            mean: (8,) or (T, 8) state.
            covariance: (8, 8) or (T, 8, 8).
            dt: elapsed seconds (scalar or (T,)); must be >= 0. ``dt = 0`` returns the input.

        Returns:
            The predicted ``(mean, covariance)``, same shapes as the input.
        """
        dt = np.asarray(dt, np.float64)
        if np.any(dt < 0):
            raise ValueError(f"dt must be >= 0 seconds, but got {dt}")
        h = mean[..., 3]
        dt_b = np.broadcast_to(dt, h.shape)
        one = np.ones_like(h)
        pos = self.std_weight_process_position * h
        vel = self.std_weight_process_velocity * h
        # Random walk: variance grows linearly with elapsed time (deep_sort's per-frame values x 25 fps).
        var = (
            np.stack([pos**2, pos**2, 2.5e-3 * one, pos**2, vel**2, vel**2, 1.6e-6 * one, vel**2], axis=-1)
            * dt_b[..., None]
        )
        f = self.motion_matrix(dt_b)
        new_mean = np.einsum("...ij,...j->...i", f, mean)
        new_cov = f @ covariance @ np.swapaxes(f, -1, -2) + _diag(var)
        return new_mean, new_cov

    def project(
        self, mean: FloatArray, covariance: FloatArray, confidence: npt.ArrayLike | None = None
    ) -> tuple[FloatArray, FloatArray]:
        """Map the state to measurement space, adding measurement noise.

        Args:
            mean: (8,) or (T, 8).
            covariance: (8, 8) or (T, 8, 8).
            confidence: optional detector score(s) in [0, 1]; the noise is scaled by ``1 - conf``
                (StrongSORT's NSA Kalman) so confident boxes pull the state harder.

        Returns:
            ``(mean, covariance)``: (..., 4) and (..., 4, 4).
        """
        h = mean[..., 3]
        std = self.std_weight_position * h
        one = np.ones_like(h)
        var = np.stack([std**2, std**2, 1e-2 * one, std**2], axis=-1)
        if confidence is not None:
            var = var * np.clip(1.0 - np.asarray(confidence, np.float64), 0.05, 1.0)[..., None]
        p_mean = mean[..., :_NDIM]
        p_cov = covariance[..., :_NDIM, :_NDIM] + _diag(var)
        return p_mean, p_cov

    def update(
        self,
        mean: FloatArray,
        covariance: FloatArray,
        measurement: npt.ArrayLike,
        confidence: npt.ArrayLike | None = None,
    ) -> tuple[FloatArray, FloatArray]:
        """Correct the state with a ``(u, v, a, h)`` measurement.

        Args:
            mean: (8,) or (T, 8) predicted state.
            covariance: (8, 8) or (T, 8, 8).
            measurement: (4,) or (T, 4) boxes in xyah.
            confidence: optional detector score(s), see :meth:`project`.

        Returns:
            The corrected ``(mean, covariance)``.
        """
        z = np.asarray(measurement, np.float64)
        p_mean, p_cov = self.project(mean, covariance, confidence)
        # Kalman gain K = P H^T S^-1; H selects the first 4 state entries so P H^T = P[:, :4].
        pht = covariance[..., :, :_NDIM]
        gain = np.swapaxes(np.linalg.solve(p_cov, np.swapaxes(pht, -1, -2)), -1, -2)
        innovation = z - p_mean
        new_mean = mean + np.einsum("...ij,...j->...i", gain, innovation)
        new_cov = covariance - gain @ p_cov @ np.swapaxes(gain, -1, -2)
        return new_mean, new_cov

    def gating_distance(
        self,
        mean: FloatArray,
        covariance: FloatArray,
        measurements: npt.ArrayLike,
        only_position: bool = False,
    ) -> FloatArray:
        """Squared Mahalanobis distance between predicted state(s) and measurements.

        Compare against ``CHI2INV95[4]`` (or ``[2]`` with ``only_position``) to gate.

        Args:
            mean: (8,) for one track, or (T, 8) for T tracks.
            covariance: (8, 8) or (T, 8, 8).
            measurements: (M, 4) boxes in xyah.
            only_position: use only the box centre (2 degrees of freedom).

        Returns:
            (M,) distances for one track, (T, M) for T tracks.
        """
        z = np.asarray(measurements, np.float64).reshape(-1, _NDIM)
        p_mean, p_cov = self.project(mean, covariance)
        k = 2 if only_position else _NDIM
        p_mean, p_cov, z = p_mean[..., :k], p_cov[..., :k, :k], z[:, :k]
        d = z - p_mean[..., None, :]  # (..., M, k)
        chol = np.linalg.cholesky(p_cov)  # (..., k, k)
        # Solve L y = d^T; |y|^2 is the squared Mahalanobis distance. Batched via np.linalg.solve
        # (k <= 4, so the triangular structure is not worth exploiting).
        y = np.linalg.solve(chol, np.swapaxes(d, -1, -2))
        return np.sum(y * y, axis=-2)


def _diag(values: FloatArray) -> FloatArray:
    """(..., n) -> (..., n, n) diagonal matrices."""
    n = values.shape[-1]
    out = np.zeros((*values.shape, n), np.float64)
    idx = np.arange(n)
    out[..., idx, idx] = values
    return out
