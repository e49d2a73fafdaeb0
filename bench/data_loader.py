"""DataLoader throughput: samples per second over an in-memory (image, label) dataset with a
per-sample transform, engine.data against torch.utils.data in the same run (serial and with
workers; peers interleaved so machine noise hits both). Not a test.

    python bench/data_loader.py [--samples N] [--batch B] [--workers W] [--repeats R]
"""
import argparse
import statistics
import time

import numpy as np


def engine_loader(images, labels, batch, workers):
    import engine.data.transform as T
    from engine.data import ArrayDataset, DataLoader, SequentialSampler

    ds = ArrayDataset(images, labels)
    tf = T.Compose([T.Normalize(127.5, 64.0), T.ToMode("CHW")], order=("image", "label"))
    return DataLoader(ds, SequentialSampler(ds, batch_size=batch), transform=tf,
                      num_workers=workers)


def torch_loader(images, labels, batch, workers):
    import torch.utils.data as tud

    class DS(tud.Dataset):
        def __len__(self):
            return len(images)

        def __getitem__(self, i):
            image = ((images[i] - np.float32(127.5)) / np.float32(64.0)).transpose(2, 0, 1)
            return np.ascontiguousarray(image), labels[i]

    return tud.DataLoader(DS(), batch_size=batch, num_workers=workers)


def samples_per_s(loader, n):
    t0 = time.perf_counter()
    for _ in loader:
        pass
    return n / (time.perf_counter() - t0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (args.samples, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, args.samples).astype(np.int32)
    for workers in (0, args.workers):
        rates = {"engine": [], "torch": []}
        for _ in range(args.repeats):
            for name, make in (("engine", engine_loader), ("torch", torch_loader)):
                rates[name].append(samples_per_s(make(images, labels, args.batch, workers),
                                                 args.samples))
        eng, tor = (statistics.median(rates[k]) for k in ("engine", "torch"))
        print(f"num_workers={workers}: engine {eng:,.0f} samples/s, torch {tor:,.0f} samples/s, "
              f"engine/torch = {eng / tor:.2f}x")


if __name__ == "__main__":
    main()
