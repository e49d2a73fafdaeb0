"""det.utils: logging, progress bar, RNG state; det.utils.comm: ranks and gathers."""
from .logger import get_logger, setup_logger
from .progress import format_eta, progress_bar
from .rng import get_rng_state, seed_all, set_rng_state

__all__ = ["get_logger", "setup_logger", "progress_bar", "format_eta", "seed_all",
           "get_rng_state", "set_rng_state"]
