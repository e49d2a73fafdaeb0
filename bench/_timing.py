"""Timing shared by the benchmarks: peers measured interleaved, so machine noise (these are
shared VMs) hits each alike, and summarised by the median."""
import statistics
import time


def time_ms(step, iters=1, warmup=1):
    """Mean milliseconds per call of step() over `iters` calls, after `warmup` calls."""
    for _ in range(warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(iters):
        step()
    return (time.perf_counter() - t0) / iters * 1e3


def interleaved_median_ms(steps, repeats, iters=1, warmup=1):
    """{name: median ms per call} for a dict of step functions, timed round-robin."""
    for step in steps.values():
        for _ in range(warmup):
            step()
    samples = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            samples[name].append(time_ms(step, iters, warmup=0))
    return {name: statistics.median(s) for name, s in samples.items()}


def same_threads(threads=0):
    """Give engine's kernels `threads` threads (0: engine's default) and torch the same count,
    so both peers run on equal pools; returns the count."""
    import torch

    import engine as mge

    C = mge._native.native()
    if threads:
        C.set_num_threads(threads)
    torch.set_num_threads(C.get_num_threads())
    return C.get_num_threads()
