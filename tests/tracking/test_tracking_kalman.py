"""Kalman filter: shapes, zero-velocity start, time-step scaling, update and gating."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.tracking.kalman import CHI2INV95, KalmanFilter, xyah_to_xyxy, xyxy_to_xyah

Z = np.array([100.0, 200.0, 0.4, 100.0])  # (u, v, a, h): a 40 x 100 person


@pytest.mark.parametrize(
    ("measurement", "mean_shape", "cov_shape"),
    [
        (Z, (8,), (8, 8)),
        (np.stack([Z, Z + 10]), (2, 8), (2, 8, 8)),
        (np.zeros((0, 4)), (0, 8), (0, 8, 8)),  # empty batch
    ],
)
def test_initiate_shapes_and_zero_velocity(measurement, mean_shape, cov_shape):
    mean, cov = KalmanFilter().initiate(measurement)
    assert mean.shape == mean_shape and cov.shape == cov_shape
    np.testing.assert_array_equal(mean[..., :4], measurement)
    np.testing.assert_array_equal(mean[..., 4:], 0.0)
    if len(cov.shape) == 2 or len(cov):
        assert np.all(np.linalg.eigvalsh(cov) > 0)


@pytest.mark.parametrize(
    ("velocity", "dt", "expected_centre"),
    [
        ((0.0, 0.0), 0.5, (100.0, 200.0)),
        ((10.0, -4.0), 0.5, (105.0, 198.0)),  # velocities are per second
        ((10.0, -4.0), 0.0, (100.0, 200.0)),
        ((25.0, 0.0), 0.04, (101.0, 200.0)),  # one frame at 25 fps
    ],
)
def test_predict_moves_by_velocity_times_dt(velocity, dt, expected_centre):
    kf = KalmanFilter()
    mean, cov = kf.initiate(Z)
    mean[4:6] = velocity
    new_mean, _ = kf.predict(mean, cov, dt)
    np.testing.assert_allclose(new_mean[:2], expected_centre)
    np.testing.assert_allclose(new_mean[4:6], velocity)


def test_predict_with_zero_dt_is_identity():
    kf = KalmanFilter()
    mean, cov = kf.initiate(Z)
    new_mean, new_cov = kf.predict(mean, cov, 0.0)
    np.testing.assert_array_equal(new_mean, mean)
    np.testing.assert_allclose(new_cov, cov)


def test_uncertainty_grows_with_dt():
    kf = KalmanFilter()
    mean, cov = kf.initiate(Z)
    variances = [np.diag(kf.predict(mean, cov, dt)[1])[0] for dt in (0.0, 0.04, 0.2, 1.0)]
    assert variances == sorted(variances) and variances[0] < variances[-1]


def test_strided_prediction_matches_frame_by_frame():
    """Three 1/25 s steps and one 3/25 s step give the same mean and nearly the same uncertainty."""
    kf = KalmanFilter()
    mean, cov = kf.initiate(Z)
    mean[4] = 50.0
    m1, c1 = mean, cov
    for _ in range(3):
        m1, c1 = kf.predict(m1, c1, 0.04)
    m3, c3 = kf.predict(mean, cov, 0.12)
    np.testing.assert_allclose(m1, m3)
    np.testing.assert_allclose(np.diag(c1), np.diag(c3), rtol=0.02)


def test_predict_rejects_negative_dt():
    kf = KalmanFilter()
    mean, cov = kf.initiate(Z)
    with pytest.raises(ValueError, match="dt must be >= 0"):
        kf.predict(mean, cov, -0.1)


def test_batched_predict_equals_per_track_predict():
    kf = KalmanFilter()
    means, covs = kf.initiate(np.stack([Z, Z * 1.5]))
    means[:, 4] = [10.0, -30.0]
    dts = np.array([0.04, 0.2])
    batch_mean, batch_cov = kf.predict(means, covs, dts)
    for k in range(2):
        one_mean, one_cov = kf.predict(means[k], covs[k], dts[k])
        np.testing.assert_allclose(batch_mean[k], one_mean)
        np.testing.assert_allclose(batch_cov[k], one_cov)


@pytest.mark.parametrize("confidence", [None, 0.9])
def test_update_moves_towards_measurement_and_shrinks_covariance(confidence):
    kf = KalmanFilter()
    mean, cov = kf.predict(*kf.initiate(Z), 0.04)
    z = Z + np.array([8.0, -6.0, 0.0, 4.0])
    new_mean, new_cov = kf.update(mean, cov, z, confidence)
    before = np.abs(mean[:4] - z)
    after = np.abs(new_mean[:4] - z)
    assert np.all(after[[0, 1, 3]] < before[[0, 1, 3]])
    assert np.trace(new_cov) < np.trace(cov)
    assert np.all(np.linalg.eigvalsh(new_cov) > 0)


def test_confident_measurement_pulls_harder():
    kf = KalmanFilter()
    mean, cov = kf.predict(*kf.initiate(Z), 0.04)
    z = Z + np.array([10.0, 0.0, 0.0, 0.0])
    weak, _ = kf.update(mean, cov, z, confidence=0.1)
    strong, _ = kf.update(mean, cov, z, confidence=0.95)
    assert abs(strong[0] - z[0]) < abs(weak[0] - z[0])


@pytest.mark.parametrize(
    ("offset", "only_position", "gated"),
    [
        ((0.0, 0.0, 0.0, 0.0), False, False),
        ((3.0, 3.0, 0.0, 2.0), False, False),  # a few pixels: kept
        ((150.0, 0.0, 0.0, 0.0), False, True),  # far away: gated out
        ((0.0, 0.0, 0.0, 60.0), False, True),  # same centre, very different height
        ((0.0, 0.0, 0.0, 60.0), True, False),  # ... which position-only gating ignores
    ],
)
def test_gating_distance(offset, only_position, gated):
    kf = KalmanFilter()
    mean, cov = kf.predict(*kf.initiate(Z), 0.04)
    d = kf.gating_distance(mean, cov, (Z + np.array(offset))[None], only_position)
    assert d.shape == (1,)
    assert bool(d[0] > CHI2INV95[2 if only_position else 4]) is gated


def test_gating_distance_batched_and_empty():
    kf = KalmanFilter()
    means, covs = kf.initiate(np.stack([Z, Z + 50]))
    d = kf.gating_distance(means, covs, np.stack([Z, Z + 50, Z + 5]))
    assert d.shape == (2, 3)
    assert d[0, 0] == pytest.approx(0.0) and d[1, 1] == pytest.approx(0.0)
    assert kf.gating_distance(means, covs, np.zeros((0, 4))).shape == (2, 0)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({}, None),
        ({"std_weight_position": 0.0}, ValueError),
        ({"std_weight_process_velocity": -1.0}, ValueError),
    ],
)
def test_filter_arguments_are_validated(kwargs, error):
    if error is None:
        KalmanFilter(**kwargs)
    else:
        with pytest.raises(error, match=next(iter(kwargs))):
            KalmanFilter(**kwargs)


@pytest.mark.parametrize(
    "xyxy",
    [
        np.array([[10.0, 20.0, 50.0, 120.0]]),
        np.array([[0.0, 0.0, 1.0, 2.0], [5, 5, 9, 30]]),
        np.zeros((0, 4)),
    ],
)
def test_box_conversion_round_trip(xyxy):
    np.testing.assert_allclose(xyah_to_xyxy(xyxy_to_xyah(xyxy)), xyxy, atol=1e-9)


def test_chi2_table_has_nine_rows():
    assert sorted(CHI2INV95) == list(range(1, 10))
    assert CHI2INV95[4] == pytest.approx(9.4877)
