"""det.models.losses, each against its formula written out in numpy."""
import numpy as np
import pytest

from det.models.losses import (
    centerness_loss,
    centerness_target,
    focal_loss,
    giou_loss,
    smooth_l1_loss,
)
from engine import Tensor
from engine.autodiff import GradManager


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_focal_loss_formula_and_gradient_sign():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 2, (6, 3)).astype(np.float32)
    y = (rng.random((6, 3)) < 0.3).astype(np.float32)
    alpha, gamma = 0.25, 2.0
    p = _sigmoid(x.astype(np.float64))
    pt = np.where(y == 1, p, 1 - p)
    at = np.where(y == 1, alpha, 1 - alpha)
    want = (-at * (1 - pt) ** gamma * np.log(pt)).sum()
    logits = Tensor(x)
    gm = GradManager().attach(logits)
    with gm:
        loss = focal_loss(logits, y, alpha, gamma)
        gm.backward(loss)
    np.testing.assert_allclose(loss.item(), want, rtol=1e-5)
    # descending the loss raises the logits of positives and lowers those of negatives
    g = logits.grad.numpy()
    assert (g[y == 1] < 0).all() and (g[y == 0] > 0).all()


def test_giou_loss_hand_computed():
    pred = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 2, 2]], np.float32)
    target = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [4, 0, 6, 2]], np.float32)
    # pair 1: IoU 50/150, hull 150 = union -> GIoU 1/3; pair 2: disjoint, union 8, hull 12
    # -> GIoU 0 - (12 - 8) / 12 = -1/3
    want = np.array([0.0, 1 - 1 / 3, 1 + 1 / 3])
    np.testing.assert_allclose(giou_loss(Tensor(pred), target).item(), want.sum(), rtol=1e-5)
    w = np.array([0.5, 2.0, 1.0], np.float32)
    np.testing.assert_allclose(giou_loss(Tensor(pred), target, w).item(), (want * w).sum(),
                               rtol=1e-5)


def test_centerness_target_formula():
    ltrb = np.array([[5, 5, 5, 5], [2, 1, 8, 4], [0.0, 3, 6, 3]], np.float32)
    want = [1.0, np.sqrt(2 / 8 * 1 / 4), 0.0]
    np.testing.assert_allclose(centerness_target(ltrb), want, rtol=1e-6, atol=1e-7)


def test_centerness_loss_is_bce_with_logits():
    x = np.array([-3.0, 0.0, 2.5, 10.0], np.float32)
    t = np.array([0.2, 0.5, 1.0, 0.0], np.float32)
    p = _sigmoid(x.astype(np.float64))
    want = -(t * np.log(p) + (1 - t) * np.log(1 - p)).sum()
    np.testing.assert_allclose(centerness_loss(Tensor(x), t).item(), want, rtol=1e-5)


@pytest.mark.parametrize("beta", [0.0, 0.1, 1.0])
def test_smooth_l1_formula(beta):
    pred = np.array([[0.0, 0.05, -0.5, 2.0]], np.float32)
    target = np.zeros((1, 4), np.float32)
    d = np.abs(pred - target).astype(np.float64)
    want = d if beta == 0 else np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
    np.testing.assert_allclose(smooth_l1_loss(Tensor(pred), target, beta).item(), want.sum(),
                               rtol=1e-5)
