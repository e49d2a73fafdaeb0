"""engine.optimizer: optimizers, learning-rate schedulers and gradient clipping (MegEngine's
names and update rules)."""
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .clip_grad import clip_grad_norm, clip_grad_value
from .lamb import LAMB, LAMBFp16
from .lr_scheduler import CosineAnnealingLR, LambdaLR, LinearWarmup, LRScheduler, MultiStepLR
from .optimizer import Optimizer, required
from .sgd import SGD

__all__ = [
    "Optimizer", "required", "SGD", "Adam", "AdamW", "LRScheduler", "MultiStepLR",
    "CosineAnnealingLR", "LambdaLR", "LinearWarmup", "clip_grad_norm", "clip_grad_value",
    "lr_scheduler",
    "Adagrad", "Adadelta", "LAMB", "LAMBFp16",
]
