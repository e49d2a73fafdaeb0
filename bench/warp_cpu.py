"""warp_perspective and remap (bilinear, forward and forward+backward) on the CPU against torch's
grid_sample in the same run, interleaved (noise hits both), same thread count: median
milliseconds per step and the engine/torch ratio. torch builds its sampling grid from the matrix
inside the timed step (our op takes the matrix); remap's grid is given to both. Not a test.

    python bench/warp_cpu.py [--repeats 7] [--threads T]
"""
import argparse

import numpy as np
from _timing import interleaved_median_ms, same_threads

# (N, C, H, W) input, output size
SHAPES = [((8, 3, 224, 224), (224, 224)), ((16, 32, 64, 64), (64, 64)),
          ((32, 64, 28, 28), (28, 28))]


def matrices(n, h, w, rng):
    """Mild perspective warps that keep most samples inside the image."""
    base = np.array([[0.95, 0.05, 2.0], [-0.04, 1.02, 1.0], [1e-4, -1e-4, 1.0]])
    return (base + rng.normal(0, [[0.02, 0.02, 1], [0.02, 0.02, 1], [1e-5, 1e-5, 0]],
                              (n, 3, 3))).astype(np.float32)


def pixel_map(mat, oh, ow):
    jj, ii = np.meshgrid(np.arange(ow), np.arange(oh))
    pts = np.einsum("nij,jhw->nhwi", mat.astype(np.float64), np.stack([jj, ii, np.ones_like(jj)]))
    return (pts[..., :2] / pts[..., 2:]).astype(np.float32)


def engine_steps(x_np, mat_np, map_np, out_hw):
    import engine as mge
    import engine.functional as F
    from engine.autodiff import GradManager

    x, mat, map_xy = mge.tensor(x_np), mge.tensor(mat_np), mge.tensor(map_np)
    gm = GradManager().attach([x, mat, map_xy])

    def warp_fwd():
        F.vision.warp_perspective(x, mat, out_hw)  # CPU ops run synchronously

    def warp_bwd():
        with gm:
            gm.backward(F.vision.warp_perspective(x, mat, out_hw).sum())
        x.grad = mat.grad = None

    def remap_fwd():
        F.vision.remap(x, map_xy)

    def remap_bwd():
        with gm:
            gm.backward(F.vision.remap(x, map_xy).sum())
        x.grad = map_xy.grad = None

    return warp_fwd, warp_bwd, remap_fwd, remap_bwd


def torch_steps(x_np, mat_np, map_np, out_hw):
    import torch

    n, _, h, w = x_np.shape
    oh, ow = out_hw
    x = torch.tensor(x_np, requires_grad=True)
    mat = torch.tensor(mat_np, requires_grad=True)
    jj, ii = torch.meshgrid(torch.arange(ow, dtype=torch.float32),
                            torch.arange(oh, dtype=torch.float32), indexing="xy")
    pix = torch.stack([jj, ii, torch.ones_like(jj)], -1).reshape(1, -1, 3)  # (1, OH*OW, 3)
    scale = torch.tensor([2 / (w - 1), 2 / (h - 1)])

    def grid_from(m):
        pts = pix @ m.transpose(1, 2)  # (N, OH*OW, 3)
        return (pts[..., :2] / pts[..., 2:] * scale - 1).reshape(n, oh, ow, 2)

    grid = torch.tensor(map_np * np.array([2 / (w - 1), 2 / (h - 1)], np.float32) - 1,
                        requires_grad=True)
    sample = lambda g: torch.nn.functional.grid_sample(  # noqa: E731
        x, g, mode="bilinear", padding_mode="border", align_corners=True)

    def warp_fwd():
        with torch.no_grad():
            sample(grid_from(mat))

    def warp_bwd():
        sample(grid_from(mat)).sum().backward()
        x.grad = mat.grad = None

    def remap_fwd():
        with torch.no_grad():
            sample(grid)

    def remap_bwd():
        sample(grid).sum().backward()
        x.grad = grid.grad = None

    return warp_fwd, warp_bwd, remap_fwd, remap_bwd


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=0, help="0: the engine's default")
    args = ap.parse_args()
    threads = same_threads(args.threads)
    print(f"threads: {threads} (engine and torch)")
    print(f"{'op':18s} {'input':>18s} {'engine ms':>10s} {'torch ms':>9s} {'engine/torch':>13s}")
    names = ("warp_perspective", "warp_persp+bwd", "remap", "remap+bwd")
    ratios = []
    rng = np.random.default_rng(0)
    for shape, out_hw in SHAPES:
        x = rng.standard_normal(shape).astype(np.float32)
        mat = matrices(shape[0], shape[2], shape[3], rng)
        map_xy = pixel_map(mat, *out_hw)
        iters = max(1, int(2e6 // x.size))
        ours, theirs = engine_steps(x, mat, map_xy, out_hw), torch_steps(x, mat, map_xy, out_hw)
        for k, name in enumerate(names):
            med = interleaved_median_ms({"engine": ours[k], "torch": theirs[k]}, args.repeats,
                                        iters)
            e, t = med["engine"], med["torch"]
            ratios.append(e / t)
            print(f"{name:18s} {str(shape):>18s} {e:10.2f} {t:9.2f} {e / t:12.2f}x")
    geo = float(np.exp(np.mean(np.log(ratios))))
    print(f"geometric mean engine/torch: {geo:.2f}x")


if __name__ == "__main__":
    main()
