"""Parameters, FLOPs and activations of a small ResNet-style net, layer by layer, with
engine.utils.module_stats (MegEngine's tool, same call, same counting conventions).

    python examples/module_stats_demo.py [--size 224] [--quiet]
"""
import argparse

import engine.functional as F
import engine.module as M
from engine.utils.module_stats import module_stats


class Block(M.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = M.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = M.BatchNorm2d(cout)
        self.conv2 = M.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = M.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = M.Sequential(M.Conv2d(cin, cout, 1, stride, bias=False),
                                     M.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


class TinyResNet(M.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.stem = M.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn = M.BatchNorm2d(16)
        self.layers = M.Sequential(Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2))
        self.pool = M.AdaptiveAvgPool2d(1)
        self.fc = M.Linear(64, num_classes)

    def forward(self, x):
        x = self.layers(F.relu(self.bn(self.stem(x))))
        return self.fc(F.flatten(self.pool(x), 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--quiet", action="store_true", help="totals only, no tables")
    args = ap.parse_args()
    total, _ = module_stats(TinyResNet(), input_shapes=(1, 3, args.size, args.size),
                            logging_to_stdout=not args.quiet)
    print(f"params {total.param_dims} ({total.param_size} bytes), flops {total.flops}, "
          f"activations {total.act_dims} ({total.act_size} bytes)")


if __name__ == "__main__":
    main()
