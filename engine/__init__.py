"""engine: a MegEngine-style deep-learning framework (placeholder while the core lands)."""
