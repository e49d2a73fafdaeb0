"""det.evaluation: COCO box evaluation (registered as evaluator "COCOEvaluator")."""
from det.registry import EVALUATORS

from .coco_evaluator import COCOEvaluator

__all__ = ["COCOEvaluator"]


EVALUATORS.register("COCOEvaluator")(COCOEvaluator)
