"""engine.core._imperative_rt.ops: MegEngine's RNG-handle functions (engine.random streams)."""
from ..ops.builtin.random import (
                                  delete_rng_handle,
                                  get_global_rng_seed,
                                  new_rng_handle,
                                  set_global_rng_seed,
)

__all__ = ["new_rng_handle", "delete_rng_handle", "get_global_rng_seed", "set_global_rng_seed"]
