"""module_stats on a small CNN, as in MegEngine's tutorial: parameters, FLOPs and activations
per layer, and the totals it returns (change `engine` back to `megengine` to run it there).

    python examples/module_stats_demo.py [--quick]

--quick uses a 32x32 input instead of 224x224. The last line prints the totals.
"""
import argparse

import numpy as np

import engine.functional as F
import engine.module as M
from engine.utils.module_stats import module_stats


class SmallCNN(M.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = M.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = M.BatchNorm2d(16)
        self.relu = M.ReLU()
        self.pool = M.MaxPool2d(2)
        self.conv2 = M.Conv2d(16, 32, 3, padding=1)
        self.gap = M.AdaptiveAvgPool2d(1)
        self.fc = M.Linear(32, num_classes)

    def forward(self, x):
        x = self.pool(self.relu(self.bn1(self.conv1(x))))
        x = self.gap(self.relu(self.conv2(x)))
        return self.fc(F.flatten(x, 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="a 32x32 input (CI)")
    args = ap.parse_args()
    size = 32 if args.quick else 224
    net = SmallCNN()
    data = np.random.RandomState(0).rand(1, 3, size, size).astype("float32")
    total, details = module_stats(net, inputs=(data,))
    conv1 = next(d for d in details.flops if d["name"] == "conv1")
    # conv1 without bias: every output element costs Cin x Kh x Kw = 27 multiply-adds
    assert int(conv1["flops_num"]) == 16 * size * size * 27
    print(f"params {total.param_dims} ({total.param_size} bytes), flops {int(total.flops)}, "
          f"activations {total.act_dims} ({total.act_size} bytes)")


if __name__ == "__main__":
    main()
