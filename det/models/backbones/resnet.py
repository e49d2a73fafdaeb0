"""ResNet-18/34/50/101 backbones returning C3, C4, C5.

Parameter names follow torchvision's ResNet (conv1, bn1, layer1.0.conv1, layer2.0.downsample.0,
...), so its ImageNet state_dicts convert with tools/convert_torchvision_resnet.py (drop fc and
num_batches_tracked, keep every other key and shape). torchvision v1.5 layout: the bottleneck
strides in its 3x3 conv.
"""
import numpy as np

import engine
import engine.functional as F
import engine.module as M

__all__ = ["ResNet", "BasicBlock", "Bottleneck", "RESNET_SPECS"]

# depth -> (block type, blocks per stage layer1..layer4)
RESNET_SPECS = {18: ("basic", (2, 2, 2, 2)), 34: ("basic", (3, 4, 6, 3)),
                50: ("bottleneck", (3, 4, 6, 3)), 101: ("bottleneck", (3, 4, 23, 3))}
_NORMS = ("BN", "SyncBN", "FrozenBN")


def _norm(channels, norm):
    # FrozenBN: a fixed affine map from the (pretrained) running statistics, no gradients: the
    # usual choice with small per-device batches. SyncBN: the statistics of all ranks' batch
    # (BN with one process), so N processes train as one process on the whole batch.
    if norm == "SyncBN":
        return M.SyncBatchNorm(channels)
    return M.BatchNorm2d(channels, freeze=(norm == "FrozenBN"))


def _conv(cin, cout, k, stride=1):
    conv = M.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False)
    M.init.msra_normal_(conv.weight, mode="fan_out", nonlinearity="relu")  # torchvision's init
    return conv


class BasicBlock(M.Module):
    expansion = 1

    def __init__(self, cin, planes, stride, norm):
        super().__init__()
        cout = planes * self.expansion
        self.conv1 = _conv(cin, planes, 3, stride)
        self.bn1 = _norm(planes, norm)
        self.conv2 = _conv(planes, cout, 3)
        self.bn2 = _norm(cout, norm)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = M.Sequential(_conv(cin, cout, 1, stride), _norm(cout, norm))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        short = x if self.downsample is None else self.downsample(x)
        return F.relu(out + short)


class Bottleneck(M.Module):
    expansion = 4

    def __init__(self, cin, planes, stride, norm):
        super().__init__()
        cout = planes * self.expansion
        self.conv1 = _conv(cin, planes, 1)
        self.bn1 = _norm(planes, norm)
        self.conv2 = _conv(planes, planes, 3, stride)
        self.bn2 = _norm(planes, norm)
        self.conv3 = _conv(planes, cout, 1)
        self.bn3 = _norm(cout, norm)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = M.Sequential(_conv(cin, cout, 1, stride), _norm(cout, norm))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        short = x if self.downsample is None else self.downsample(x)
        return F.relu(out + short)


class ResNet(M.Module):
    """ResNet feature extractor: (N, 3, H, W) -> [C3 (N, c3, H/8, W/8), C4 (H/16), C5 (H/32)].

    Args:
        depth: 18, 34, 50 or 101.
        width: channels of the stem and of layer1's planes (64 is torchvision's ResNet; smaller
            values give narrow, fast models that cannot load ImageNet weights).
        norm: "BN" (trained batch norm, per process), "SyncBN" (batch norm over the batch of
            all processes), "FrozenBN" (running statistics fixed) or None: FrozenBN
            with pretrained weights (their statistics are worth keeping), BN from scratch (a
            frozen BN at its initial statistics would normalise nothing).
        freeze_at: number of leading stages kept fixed (0: none, 1: stem, 2: stem + layer1,
            ...): their outputs are detached so their parameters get no gradient.
        pretrained: path of a state_dict converted by tools/convert_torchvision_resnet.py
            (engine.save format), or None.
    """

    strides = (8, 16, 32)

    def __init__(self, depth=50, width=64, norm=None, freeze_at=0, pretrained=None):
        super().__init__()
        if depth not in RESNET_SPECS:
            raise ValueError(f"ResNet: depth must be one of {sorted(RESNET_SPECS)}, got {depth!r}")
        if norm is None:
            norm = "FrozenBN" if pretrained else "BN"
        if norm not in _NORMS:
            raise ValueError(f"ResNet: norm must be one of {_NORMS}, got {norm!r}")
        if not isinstance(width, int) or width <= 0:
            raise ValueError(f"ResNet: width must be a positive int, got {width!r}")
        if not isinstance(freeze_at, int) or not 0 <= freeze_at <= 5:
            raise ValueError(f"ResNet: freeze_at must be an int in [0, 5], got {freeze_at!r}")
        kind, blocks = RESNET_SPECS[depth]
        block = BasicBlock if kind == "basic" else Bottleneck
        self.depth, self.width, self.norm, self.freeze_at = depth, width, norm, freeze_at
        self.conv1 = M.Conv2d(3, width, 7, stride=2, padding=3, bias=False)
        M.init.msra_normal_(self.conv1.weight, mode="fan_out", nonlinearity="relu")
        self.bn1 = _norm(width, norm)
        cin = width
        stages = []
        for i, n in enumerate(blocks):
            planes = width * 2 ** i
            stage = []
            for j in range(n):
                stage.append(block(cin, planes, 2 if (j == 0 and i > 0) else 1, norm))
                cin = planes * block.expansion
            stages.append(stage)
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        # (c3, c4, c5): channels of layer2..layer4's outputs
        self.out_channels = tuple(width * 2 ** i * block.expansion for i in (1, 2, 3))
        if pretrained:
            self.load_pretrained(pretrained)

    def load_pretrained(self, path):
        state = engine.load(path)
        if not isinstance(state, dict):
            raise ValueError(f"ResNet: {path} holds a {type(state).__name__}, expected the "
                             f"state_dict written by tools/convert_torchvision_resnet.py")
        try:
            self.load_state_dict({k: np.asarray(v) for k, v in state.items()})
        except (KeyError, ValueError) as e:
            raise ValueError(f"ResNet(depth={self.depth}, width={self.width}) cannot load "
                             f"{path}: {e}") from None

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"ResNet: expected (N, 3, H, W) images, got shape {tuple(x.shape)}")
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.max_pool2d(x, 3, stride=2, padding=1)
        if self.freeze_at >= 1:
            x = x.detach()
        outs = []
        for i, stage in enumerate((self.layer1, self.layer2, self.layer3, self.layer4)):
            for blk in stage:
                x = blk(x)
            if self.freeze_at >= i + 2:
                x = x.detach()
            if i >= 1:
                outs.append(x)
        return outs  # [C3, C4, C5]
