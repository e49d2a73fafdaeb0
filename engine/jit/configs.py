"""MegEngine's trace option objects (megengine.jit.SublinearMemoryConfig, DTRConfig,
GraphOptimizationConfig), with their names, defaults and checks.

What they do in engine: `trace(dtr_config=DTRConfig(...))` turns engine's DTR on with these
settings while the traced function runs (engine/dtr/); SublinearMemoryConfig's genetic planner
and GraphOptimizationConfig's JIT fusion flags are MegEngine graph-compiler knobs that engine's
trace accepts and keeps but does not act on (documented in engine/jit/tracing.py).
"""
from .. import device as _device

# MegEngine's default planner threads: half the CPUs, worked out once at import as there
_HALF_THE_CPUS = max(1, _device.get_device_count("cpu") // 2)


class SublinearMemoryConfig:
    """Settings of MegEngine's sublinear memory planner (accepted; no effect in engine).

    Args:
        thresh_nr_try: number of samples of the threshold search.
        genetic_nr_iter: iterations of the genetic search (0: none).
        genetic_pool_size: population of the genetic search (>= 2 when it runs).
        lb_memory_mb: memory lower bound of the search, in MiB.
        num_worker: planner threads.
    """

    def __init__(self, thresh_nr_try=10, genetic_nr_iter=0, genetic_pool_size=20,
                 lb_memory_mb=0, num_worker=_HALF_THE_CPUS):
        for name, value, low in (("thresh_nr_try", thresh_nr_try, 0),
                                 ("genetic_nr_iter", genetic_nr_iter, 0),
                                 ("lb_memory_mb", lb_memory_mb, 0), ("num_worker", num_worker, 1)):
            if value < low:
                raise ValueError(f"SublinearMemoryConfig: {name} must be >= {low}, got {value}")
        if genetic_nr_iter and genetic_pool_size < 2:
            raise ValueError("SublinearMemoryConfig: genetic_pool_size must be >= 2 when the "
                             f"genetic search runs, got {genetic_pool_size}")
        self.thresh_nr_try = thresh_nr_try
        self.genetic_nr_iter = genetic_nr_iter
        self.genetic_pool_size = genetic_pool_size
        self.lb_memory_mb = lb_memory_mb
        self.num_worker = num_worker


class DTRConfig:
    """DTR settings for a traced function (MegEngine's names and units, bytes).

    Args:
        eviction_threshold: bytes of live tensors above which DTR evicts (must be > 0).
        evictee_minimum_size: the smallest tensor, in bytes, that may be evicted.
        recomp_memory_factor: MegEngine's weight of memory in its eviction score (accepted;
            engine's score is the DTR paper's, see engine/dtr/policy.py).
        recomp_time_factor: MegEngine's weight of recompute time (accepted, as above).
    """

    def __init__(self, eviction_threshold=0, evictee_minimum_size=1 << 20,
                 recomp_memory_factor=1, recomp_time_factor=1):
        if eviction_threshold <= 0:
            raise ValueError(f"DTRConfig: eviction_threshold must be > 0, got "
                             f"{eviction_threshold}")
        if evictee_minimum_size < 0:
            raise ValueError(f"DTRConfig: evictee_minimum_size must be >= 0, got "
                             f"{evictee_minimum_size}")
        if recomp_memory_factor < 0 or recomp_time_factor < 0:
            raise ValueError("DTRConfig: recomp_memory_factor and recomp_time_factor must be "
                             ">= 0")
        self.eviction_threshold = eviction_threshold
        self.evictee_minimum_size = evictee_minimum_size
        self.recomp_memory_factor = recomp_memory_factor
        self.recomp_time_factor = recomp_time_factor


class GraphOptimizationConfig:
    """MegEngine's JIT fusion switches: None (opt_level decides), False or True. Accepted and
    kept; engine's trace does not fuse yet."""

    def __init__(self):
        self.jit_fuse_dimshuffle = None
        self.jit_fuse_reduce = None

    def __repr__(self):
        names = {None: "UNSET", False: "OFF", True: "ON"}
        return (f"GraphOptimizationConfig {{ jit_fuse_dimshuffle = "
                f"{names[self.jit_fuse_dimshuffle]}, jit_fuse_reduce = "
                f"{names[self.jit_fuse_reduce]} }}")
