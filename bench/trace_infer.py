"""Traced inference against eager and torch, in the same run. Not a test.

bench/train_step_cpu.py's ResNet (basic blocks 2-2-2-2, widths 32-256) in eval mode, batch 16,
64x64:
    eager    model(x)
    replay   trace(model, capture_as_const=True, without_host=True): the captured graph after
             the inference passes (BatchNorm folded into the convs, conv + ReLU fused)
    torch    the same network in torch, eval mode, no_grad
Prints ms per forward and the ratios; checks first that the replay matches eager to 1e-4.

    python bench/trace_infer.py [--repeats R] [--threads N]
"""
import argparse

import numpy as np
from _timing import interleaved_median_ms, same_threads
from train_step_cpu import engine_resnet, torch_resnet


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--threads", type=int, default=0, help="0: engine's default")
    args = ap.parse_args()

    import torch

    import engine as mge
    from engine.jit import trace

    threads = same_threads(args.threads)
    x_np = np.random.default_rng(0).standard_normal((16, 3, 64, 64)).astype("float32")
    model = engine_resnet()
    model.eval()
    x = mge.tensor(x_np)
    replay = trace(model, capture_as_const=True, without_host=True)
    want = model(x).numpy()
    for _ in range(2):
        np.testing.assert_allclose(replay(x).numpy(), want, rtol=1e-4, atol=1e-4)
    tmodel = torch_resnet()
    tmodel.eval()
    tx = torch.from_numpy(x_np)

    def torch_forward():
        with torch.no_grad():
            return tmodel(tx)

    ms = interleaved_median_ms({"eager": lambda: model(x).numpy(),
                                "replay": lambda: replay(x).numpy(),
                                "torch": lambda: torch_forward().numpy()}, args.repeats)
    print(f"ResNet eval forward, batch 16, 64x64, {threads} thread(s); ms (median of "
          f"{args.repeats})")
    for name, t in ms.items():
        print(f"  {name:7s}{t:9.2f} ms {t / ms['eager']:7.2f}x eager {t / ms['torch']:7.2f}x torch")


if __name__ == "__main__":
    main()
