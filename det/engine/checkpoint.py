"""Checkpointer: save / load model, optimizer and trainer state; the last_checkpoint pointer.

A checkpoint file is {"model": state_dict, "optimizer": ..., "trainer": Trainer.state_dict()
(iteration, RNG states, hook states such as the LR scheduler and EMA), "meta": {...}}, written
by mge.save (temporary file + rename: an interrupted save never destroys the previous file).
`last_checkpoint` in the same folder names the newest file and is replaced the same way, after
the checkpoint itself is complete.
"""
import os

from det.utils import comm
from det.utils.logger import get_logger

__all__ = ["Checkpointer", "load_model_weights"]

POINTER = "last_checkpoint"


class Checkpointer:
    """Args:
        model: the Module whose state_dict is saved.
        save_dir: folder of the checkpoints and of the pointer file.
        optimizer, trainer: saved too when given (both are needed to resume).
        meta: a dict of plain data stored with every checkpoint (num_classes, class_names).
    """

    def __init__(self, model, save_dir, *, optimizer=None, trainer=None, meta=None):
        self.model = model
        self.save_dir = save_dir
        self.optimizer = optimizer
        self.trainer = trainer
        self.meta = dict(meta or {})

    def save(self, name):
        """Write save_dir/name.pkl and point last_checkpoint at it; returns the path. With
        several processes only rank 0 writes (the ranks hold the same weights) and the others
        return None."""
        import engine as mge

        if not comm.is_main_process():
            return None
        os.makedirs(self.save_dir, exist_ok=True)
        data = {"model": self.model.state_dict(), "meta": self.meta}
        if self.optimizer is not None:
            data["optimizer"] = self.optimizer.state_dict()
        if self.trainer is not None:
            data["trainer"] = self.trainer.state_dict()
        basename = f"{name}.pkl"
        path = os.path.join(self.save_dir, basename)
        mge.save(data, path)
        _write_atomic(os.path.join(self.save_dir, POINTER), basename)
        get_logger().info(f"Saved checkpoint {path}")
        return path

    def last_checkpoint(self):
        """Path of the checkpoint last_checkpoint names, or None when there is none."""
        pointer = os.path.join(self.save_dir, POINTER)
        if not os.path.isfile(pointer):
            return None
        with open(pointer) as f:
            name = f.read().strip()
        path = os.path.join(self.save_dir, name)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{pointer} names {name!r}, which does not exist in "
                                    f"{self.save_dir}; delete the pointer to start afresh")
        return path

    def load(self, path, resume=False):
        """Load a checkpoint. resume=True: model (strict), optimizer and trainer state;
        else only model weights, non-strictly (missing and unexpected keys warn)."""
        ckpt = _read(path)
        if not resume:
            load_model_weights(self.model, ckpt, strict=False, source=path)
            return ckpt
        missing = [k for k in ("model", "optimizer", "trainer") if k not in ckpt]
        if missing:
            raise KeyError(f"{path} cannot be resumed from: it lacks {missing} (a weights-only "
                           f"file? pass it with -w without --resume)")
        self.model.load_state_dict(ckpt["model"], strict=True)
        if self.optimizer is not None:
            self.optimizer.load_state_dict(ckpt["optimizer"])
        if self.trainer is not None:
            self.trainer.load_state_dict(ckpt["trainer"])
        return ckpt

    def resume_or_load(self, weights=None, resume=False):
        """detectron2's rule: with resume and a last_checkpoint, resume from it; otherwise load
        `weights` (model only) when given; otherwise start from scratch. Returns the path used
        or None."""
        log = get_logger()
        if resume:
            last = self.last_checkpoint()
            if last is not None:
                log.info(f"Resuming from {last}")
                self.load(last, resume=True)
                return last
            log.info(f"--resume: no {POINTER} in {self.save_dir}; starting a new run")
        if weights:
            log.info(f"Loading weights from {weights}")
            self.load(weights, resume=False)
            return weights
        return None


def _read(path):
    import engine as mge

    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint {path!r} does not exist")
    try:
        ckpt = mge.load(path, weights_only=True)
    except Exception as e:  # noqa: BLE001 (any unpickling failure means a bad file)
        raise ValueError(f"cannot read checkpoint {path}: {type(e).__name__}: {e}") from e
    if not isinstance(ckpt, dict):
        raise ValueError(f"checkpoint {path}: expected a dict, got {type(ckpt).__name__}")
    return ckpt


def load_model_weights(model, path_or_ckpt, strict=True, prefer_ema=False, source=None):
    """Load model weights from a checkpoint (its "model" entry, or its EMA weights when
    prefer_ema and it has them) or from a bare state dict file. Non-strict loading still fails
    when no key at all matches (a file for another model). Returns the checkpoint dict."""
    ckpt = _read(path_or_ckpt) if isinstance(path_or_ckpt, (str, os.PathLike)) else path_or_ckpt
    source = source or (path_or_ckpt if isinstance(path_or_ckpt, str) else "checkpoint")
    weights = ckpt["model"] if isinstance(ckpt.get("model"), dict) else ckpt
    trainer = ckpt.get("trainer") if isinstance(ckpt.get("trainer"), dict) else {}
    ema = trainer.get("hooks", {}).get("EMAHook")
    if prefer_ema and ema is not None:
        get_logger().info(f"Using the EMA weights of {source}")
        weights = ema["ema"]
    own = set(model.state_dict())
    if not own & set(weights):
        raise KeyError(f"{source}: none of its {len(weights)} keys (e.g. "
                       f"{sorted(weights)[:3]}) is a key of {type(model).__name__} (e.g. "
                       f"{sorted(own)[:3]})")
    model.load_state_dict(dict(weights), strict=strict)
    return ckpt


def _write_atomic(path, text):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
