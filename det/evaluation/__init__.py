"""det.evaluation: COCO box evaluation (registered as evaluator "COCOEvaluator")."""
from .coco_evaluator import COCOEvaluator

__all__ = ["COCOEvaluator"]


def _register():
    # det.registry is det_core's; without it det.evaluation still works
    try:
        from det.registry import EVALUATORS
    except ModuleNotFoundError as e:
        if e.name not in ("det.registry", "det"):
            raise
        return
    EVALUATORS.register("COCOEvaluator")(COCOEvaluator)


_register()
