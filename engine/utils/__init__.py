"""engine.utils: MegEngine's utility paths - module_stats, profiler, dlpack, hook."""
