"""Pieces shared by the dense heads: conv towers and flattening of per-level outputs."""
import math

import engine.functional as F
import engine.module as M

__all__ = ["conv_tower", "head_conv", "prior_bias", "flatten_levels"]


def head_conv(cin, cout, bias_value=0.0):
    """3x3 conv initialised as in FCOS / RetinaNet: weight ~ N(0, 0.01^2), constant bias."""
    conv = M.Conv2d(cin, cout, 3, padding=1)
    M.init.normal_(conv.weight, 0.0, 0.01)
    M.init.fill_(conv.bias, bias_value)
    return conv


def conv_tower(channels, num_convs, norm):
    """num_convs x (3x3 conv, norm, ReLU) at constant width; norm "GN" (32 groups, or fewer for
    narrow heads) or None."""
    if norm not in ("GN", None):
        raise ValueError(f"head: norm must be 'GN' or None, got {norm!r}")
    layers = []
    for _ in range(num_convs):
        layers.append(head_conv(channels, channels))
        if norm == "GN":
            layers.append(M.GroupNorm(math.gcd(32, channels), channels))
        layers.append(M.ReLU())
    return M.Sequential(*layers)


def prior_bias(prior_prob):
    """Classifier bias so every class starts at probability prior_prob (focal loss paper): keeps
    the background flood from swamping the first iterations."""
    if not 0 < prior_prob < 1:
        raise ValueError(f"head: prior_prob must be in (0, 1), got {prior_prob!r}")
    return -math.log((1 - prior_prob) / prior_prob)


def flatten_levels(outputs, k):
    """[(N, A * k, H_l, W_l)] per level -> (N, sum_l H_l W_l A, k), ordered level, y, x, anchor
    (the order of det.models.anchors)."""
    flat = []
    for x in outputs:
        n, c, h, w = x.shape
        a = c // k
        x = x.reshape(n, a, k, h, w).transpose(0, 3, 4, 1, 2)  # (N, H, W, A, k)
        flat.append(x.reshape(n, h * w * a, k))
    return F.concat(flat, axis=1)
