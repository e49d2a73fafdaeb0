"""Feature Pyramid Network: C3-C5 -> P3-P7 (Lin et al.; FCOS / RetinaNet variant)."""
import engine.functional as F
import engine.module as M

__all__ = ["FPN"]


def _conv(cin, cout, k, stride=1):
    conv = M.Conv2d(cin, cout, k, stride=stride, padding=k // 2)
    # detectron2's c2_xavier_fill: kaiming-uniform with a=1, zero bias.
    M.init.msra_uniform_(conv.weight, a=1)
    return conv


class FPN(M.Module):
    """Top-down pyramid with lateral 1x1 and output 3x3 convs, plus P6, P7 by stride-2 3x3 convs.

    Args:
        in_channels: channels of the inputs (c3, c4, c5), e.g. ResNet.out_channels.
        out_channels: channels of every output level.
        num_extra_levels: levels added above P5 (2: P6, P7; 0: only P3-P5).
        extra_from: "p5" (FCOS: P6 from the FPN's P5) or "c5" (RetinaNet: from C5).
    Returns [P3, P4, P5, P6, P7] with strides in_strides + (64, 128).
    """

    def __init__(self, in_channels=(512, 1024, 2048), out_channels=256, num_extra_levels=2,
                 extra_from="p5", in_strides=(8, 16, 32)):
        super().__init__()
        if extra_from not in ("p5", "c5"):
            raise ValueError(f"FPN: extra_from must be 'p5' or 'c5', got {extra_from!r}")
        if len(in_channels) != len(in_strides):
            raise ValueError(f"FPN: {len(in_channels)} in_channels but {len(in_strides)} "
                             f"in_strides")
        if not isinstance(num_extra_levels, int) or num_extra_levels < 0:
            raise ValueError(f"FPN: num_extra_levels must be a non-negative int, got "
                             f"{num_extra_levels!r}")
        self.in_channels = tuple(in_channels)
        self.out_channels = out_channels
        self.extra_from = extra_from
        self.lateral_convs = [_conv(c, out_channels, 1) for c in in_channels]
        self.output_convs = [_conv(out_channels, out_channels, 3) for _ in in_channels]
        self.extra_convs = []
        cin = in_channels[-1] if extra_from == "c5" else out_channels
        for _ in range(num_extra_levels):
            self.extra_convs.append(_conv(cin, out_channels, 3, stride=2))
            cin = out_channels
        last = in_strides[-1]
        self.strides = tuple(in_strides) + tuple(last * 2 ** (i + 1)
                                                 for i in range(num_extra_levels))

    def forward(self, feats):
        if len(feats) != len(self.in_channels):
            raise ValueError(f"FPN: expected {len(self.in_channels)} feature maps, got "
                             f"{len(feats)}")
        for f, c in zip(feats, self.in_channels):
            if f.ndim != 4 or f.shape[1] != c:
                raise ValueError(f"FPN: feature maps must have channels {self.in_channels}, got "
                                 f"shapes {[tuple(x.shape) for x in feats]}")
        top = self.lateral_convs[-1](feats[-1])
        outs = [self.output_convs[-1](top)]
        for i in range(len(feats) - 2, -1, -1):
            lat = self.lateral_convs[i](feats[i])
            # nearest upsampling to the lateral's exact size (odd sizes do not halve evenly)
            top = lat + F.nn.interpolate(top, size=lat.shape[2:], mode="nearest")
            outs.insert(0, self.output_convs[i](top))
        x = feats[-1] if self.extra_from == "c5" else outs[-1]
        for i, conv in enumerate(self.extra_convs):
            x = conv(x if i == 0 else F.relu(x))
            outs.append(x)
        return outs  # [P3, P4, P5, P6, P7]: (N, out_channels, H / s, W / s)
