"""DTR's shared state: the settings of `mge.dtr`, the op clock, the eviction pool and the
statistics. One module that the others read as `S.<name>`, so a setting changed through the API
is what every part sees."""
import random as _pyrandom

enabled = False
threshold = 0           # bytes; 0 = evict only when an allocation fails
min_size = 1 << 20      # evictee_minimum_size
sqrt_sampling = False
allowance = {}          # device -> bytes tolerated over the threshold while it cannot be met
                        # (policy.charge)
clock = 0               # one tick per op: staleness is measured in ops
pool = {}               # id -> weakref of every resident, evictable record of min_size bytes+
sampler = _pyrandom.Random(0)  # picks sqrt(N) candidates; never touches values
held = []               # records pinned by the running node backward's reads (node_backward)
backward_id = 0         # the serial number of the running node_backward; 0 outside any
backward_count = 0      # node_backward blocks so far
trace = None            # debugging: set to a list to collect ("evict"|"recompute", op name,
                        # KiB, record id mod 10007, clock) events
stats = dict(evictions=0, recomputations=0, recompute_seconds=0.0, evicted_bytes=0,
             over_budget=0)
