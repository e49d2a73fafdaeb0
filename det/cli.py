"""Command line: `python -m det train|test|demo` (also the det-train, det-test, det-demo scripts).

    python -m det train [-f CONFIG] [-w WEIGHTS] [--resume] [--dtr] [--dtr-threshold SIZE]
                        [--num-procs N | --num-gpus N] [KEY=VALUE ...]
    python -m det test  [-f CONFIG] -w CHECKPOINT [KEY=VALUE ...]
    python -m det demo  [-f CONFIG] (-w CHECKPOINT | --engine-file GRAPH) IMAGE... [--out DIR]
                        [KEY=VALUE ...]
    python -m det export [-f CONFIG] -w CHECKPOINT --out GRAPH [--onnx FILE] [--size H W]
                        [--no-optimize] [KEY=VALUE ...]

CONFIG is a built-in name (det.config.BUILTIN_CONFIGS; default fcos_r18_shapes) or the path of
a Python config file. Problems with the config, paths or the dataset stop the command with one
line naming what is wrong (exit status 2); errors while training keep their traceback.

Several processes: `--num-procs N` (CPU processes over MPI), `--num-gpus N` (one process per
GPU, NCCL), or `mpiexec -n N python -m det train ...`. train.batch_size is per process: the
total batch of an iteration is N * train.batch_size.
"""
import argparse
import os
import sys

from det.config import (
    BUILTIN_CONFIGS,
    apply_overrides,
    dataset_num_classes,
    dump_config,
    get_config,
    resolve_num_classes,
)
from det.registry import ConfigBuildError
from det.utils import get_logger, seed_all, setup_logger

__all__ = ["main", "build_parser", "train", "test", "demo", "export", "train_main",
           "test_main", "demo_main", "export_main"]

DEFAULT_CONFIG = "fcos_r18_shapes"


class UsageError(Exception):
    """A problem the user fixes on the command line or in the config (no traceback needed)."""


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m det", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cfg_help = f"built-in config ({', '.join(BUILTIN_CONFIGS)}) or a Python config file"
    opts_help = "config overrides, e.g. train.max_iter=100 model.backbone.depth=34"

    p = sub.add_parser("train", help="train a detector")
    p.add_argument("-f", "--config-file", default=DEFAULT_CONFIG, help=cfg_help)
    p.add_argument("-w", "--weights", default=None, help="initial model weights (model only)")
    p.add_argument("--resume", action="store_true",
                   help="continue from output_dir/last_checkpoint when it exists")
    p.add_argument("--dtr", action="store_true",
                   help="enable dynamic tensor rematerialization (mge.dtr) to save memory")
    p.add_argument("--dtr-threshold", default=None, metavar="SIZE",
                   help="DTR's eviction_threshold, e.g. 2GB (implies --dtr; default: evict only "
                        "when an allocation fails)")
    procs = p.add_mutually_exclusive_group()
    procs.add_argument("--num-procs", type=int, default=None, metavar="N",
                       help="train data-parallel on N CPU processes (MPI); train.batch_size "
                            "is per process, so the total batch is N * train.batch_size")
    procs.add_argument("--num-gpus", type=int, default=None, metavar="N",
                       help="train data-parallel on N GPUs, one process each (NCCL); "
                            "train.batch_size is per GPU (total batch N * train.batch_size)")
    p.add_argument("opts", nargs="*", metavar="KEY=VALUE", help=opts_help)

    p = sub.add_parser("test", help="evaluate a checkpoint on the validation set")
    p.add_argument("-f", "--config-file", default=DEFAULT_CONFIG, help=cfg_help)
    p.add_argument("-w", "--weights", required=True, help="checkpoint to evaluate")
    p.add_argument("opts", nargs="*", metavar="KEY=VALUE", help=opts_help)

    p = sub.add_parser("demo", help="draw detections on images and write PNGs")
    p.add_argument("-f", "--config-file", default=DEFAULT_CONFIG, help=cfg_help)
    run = p.add_mutually_exclusive_group(required=True)
    run.add_argument("-w", "--weights", help="checkpoint to run")
    run.add_argument("--engine-file", default=None, metavar="GRAPH",
                     help="run the network from a graph file of `det export` instead")
    p.add_argument("--out", default="./demo_output", help="folder of the PNGs")
    p.add_argument("--score-thresh", type=float, default=0.3, help="draw boxes scoring >= this")
    p.add_argument("inputs", nargs="+", metavar="IMAGE",
                   help="image files (KEY=VALUE items are config overrides)")

    p = sub.add_parser("export", help="dump the network as an engine graph file (and ONNX)")
    p.add_argument("-f", "--config-file", default=DEFAULT_CONFIG, help=cfg_help)
    p.add_argument("-w", "--weights", required=True, help="checkpoint to export")
    p.add_argument("--out", required=True, metavar="GRAPH", help="graph file to write (.mge)")
    p.add_argument("--onnx", default=None, metavar="FILE", help="also write an ONNX model")
    p.add_argument("--size", type=int, nargs=2, default=None, metavar=("H", "W"),
                   help="input canvas (default: data.max_size rounded up to "
                        "data.size_divisibility, square)")
    p.add_argument("--no-optimize", action="store_true",
                   help="dump the traced graph as it is (no BatchNorm folding or fusion)")
    p.add_argument("opts", nargs="*", metavar="KEY=VALUE", help=opts_help)
    return parser


def _load_config(config_file, opts):
    try:
        cfg = get_config(config_file)
        apply_overrides(cfg, opts)
    except (FileNotFoundError, KeyError, TypeError, ValueError) as e:
        raise UsageError(_message(e)) from e
    return cfg


def _message(e):
    # KeyError's str() wraps the message in quotes
    return e.args[0] if isinstance(e, KeyError) and e.args else str(e)


def _prepare(cfg, train):
    try:
        cfg.prepare_data(train=train)
    except FileNotFoundError as e:
        raise UsageError(str(e)) from e


def _enable_dtr(threshold):
    import engine as mge

    try:
        mge.dtr(eviction_threshold=threshold or 0)
    except ValueError as e:
        raise UsageError(f"--dtr-threshold: {e}") from e
    get_logger().info(f"DTR enabled: {mge.dtr!r}")


def _disable_dtr():
    import engine as mge

    if mge.dtr.enabled:
        mge.dtr.disable()
        get_logger().info(f"DTR: {mge.dtr.stats()}")


def _check_classes(cfg, dataset, split):
    try:
        n = dataset_num_classes(dataset)
        resolve_num_classes(cfg, n, source=f"the {split} set ({cfg.data.get(f'{split}_json')})")
    except (AttributeError, ValueError) as e:
        raise UsageError(str(e)) from e
    return n


def _class_names(cfg, dataset=None):
    return cfg.data.get("class_names") or getattr(dataset, "class_names", None)


# ------------------------------------------------------------------------------ commands
def train(args):
    """Build everything from the config and train. Returns the Trainer with one process, or
    with several (--num-procs, --num-gpus, mpiexec) the list of each rank's final
    evaluation results."""
    from det.engine.launch import LaunchError, launch, mpiexec_world_size

    cfg = _load_config(args.config_file, args.opts)  # config errors stop here, once
    num_procs = getattr(args, "num_procs", None)
    num_gpus = getattr(args, "num_gpus", None)
    for flag, n in (("--num-procs", num_procs), ("--num-gpus", num_gpus)):
        if n is not None and n < 1:
            raise UsageError(f"{flag} must be at least 1, got {n}")
    if num_procs is None and num_gpus is None and mpiexec_world_size() in (None, 1):
        return _train_in_process(args, cfg)
    try:
        return launch(_train_worker, num_procs=num_gpus or num_procs,
                      device_type="gpu" if num_gpus else "cpu", args=(args, cfg))
    except LaunchError as e:
        raise UsageError(str(e)) from e


def _train_worker(args, cfg):
    """One rank of a data-parallel run: returns its final evaluation results (picklable)."""
    return _train_in_process(args, cfg).eval_results


def _train_in_process(args, cfg):
    log = _setup_rank_logger(cfg.output_dir)
    if args.dtr or args.dtr_threshold:
        _enable_dtr(args.dtr_threshold)
    try:
        return _train(args, cfg, log)
    finally:
        _disable_dtr()


def _setup_rank_logger(output_dir):
    """Rank 0 logs as one process does (console and output_dir/log.txt); the other ranks
    only warnings and errors, on the console."""
    import logging

    from det.utils import comm

    if comm.is_main_process():
        return setup_logger(output_dir)
    return setup_logger(None, level=logging.WARNING)


def _train(args, cfg, log):
    from det.engine import (
        Checkpointer,
        Trainer,
        build_optimizer,
        default_hooks,
        inference_on_dataset,
    )
    from det.utils import comm

    seed_all(cfg.seed)  # the same seed on every rank (rank 0's weights are broadcast anyway)
    log.info(f"Training on {comm.get_world_size()} process(es): {cfg.train.batch_size} images "
             f"per process, {cfg.train.batch_size * comm.get_world_size()} per iteration")
    # rank 0 generates the shapes dataset; the others only check it once rank 0 is done
    if comm.is_main_process():
        _prepare(cfg, train=True)
    comm.synchronize()
    if not comm.is_main_process():
        _prepare(cfg, train=True)
    loader = cfg.build_train_loader()
    _check_classes(cfg, loader.dataset, "train")
    if comm.is_main_process():
        path = dump_config(cfg, cfg.output_dir)
        log.info(f"Config written to {path}")
    model = cfg.build_model()
    cfg.check_evaluator()  # built at the first evaluation: a typo must stop the run now
    optimizer = build_optimizer(cfg, model)
    trainer = Trainer(model, optimizer, loader, max_iter=cfg.train.max_iter)
    meta = {"num_classes": cfg.model.num_classes,
            "class_names": _class_names(cfg, loader.dataset)}
    checkpointer = Checkpointer(model, cfg.output_dir, optimizer=optimizer, trainer=trainer,
                                meta=meta)

    state = {}

    def eval_function():
        # built on first use: the test loader and evaluator cost nothing when never evaluated
        if not state:
            state["loader"] = cfg.build_test_loader()
            state["evaluator"] = cfg.build_evaluator(cfg.output_dir, state["loader"].dataset)
        return inference_on_dataset(model, state["loader"], state["evaluator"])

    trainer.register_hooks(default_hooks(cfg, trainer, checkpointer, eval_function))
    try:
        checkpointer.resume_or_load(args.weights, resume=args.resume)
    except (FileNotFoundError, KeyError, ValueError) as e:
        raise UsageError(_message(e)) from e
    trainer.train()
    return trainer


def test(args):
    """Evaluate a checkpoint; returns the metrics dict."""
    from det.engine import inference_on_dataset

    cfg = _load_config(args.config_file, args.opts)
    setup_logger(cfg.output_dir)
    seed_all(cfg.seed)
    _prepare(cfg, train=False)
    loader = cfg.build_test_loader()
    _check_classes(cfg, loader.dataset, "val")
    model = cfg.build_model()
    _load_weights(model, args.weights, cfg)
    evaluator = cfg.build_evaluator(cfg.output_dir, loader.dataset)
    return inference_on_dataset(model, loader, evaluator)


def demo(args):
    """Run the model on images and write them with boxes drawn; returns the written paths."""
    from det.utils.progress import progress_bar
    from det.utils.visualize import draw_detections, image_to_batch, load_rgb

    images = [a for a in args.inputs if "=" not in a or os.path.exists(a)]
    opts = [a for a in args.inputs if a not in images]
    missing = [p for p in images if not os.path.isfile(p)]
    if missing or not images:
        raise UsageError(f"demo: image files not found: {missing}" if missing else
                         "demo: no image given")
    cfg = _load_config(args.config_file, opts)
    setup_logger()
    if args.engine_file:
        model, names = _engine_file_detector(cfg, args.engine_file)
    else:
        model, names = _checkpoint_detector(cfg, args.weights)
    os.makedirs(args.out, exist_ok=True)
    written = []
    for i, path in enumerate(progress_bar(images, desc="demo")):
        image = load_rgb(path)
        batch = image_to_batch(image, cfg.data.min_size, cfg.data.max_size,
                               cfg.data.get("size_divisibility", 32), image_id=i)
        detections = model(batch, mode="predict")[0]
        out = os.path.join(args.out, os.path.splitext(os.path.basename(path))[0] + ".png")
        draw_detections(image, detections, names, args.score_thresh).save(out)
        kept = int((detections["scores"] >= args.score_thresh).sum())
        get_logger().info(f"{path}: {kept} detections -> {out}")
        written.append(out)
    return written


def _checkpoint_detector(cfg, weights):
    """The config's model with the checkpoint's weights, in eval mode, and the class names."""
    from det.engine.checkpoint import _read

    try:
        ckpt = _read(weights)
    except (FileNotFoundError, ValueError) as e:
        raise UsageError(str(e)) from e
    meta = ckpt.get("meta", {}) if isinstance(ckpt.get("meta"), dict) else {}
    if cfg.model.get("num_classes") is None:
        if meta.get("num_classes") is None:
            raise UsageError(f"{weights} does not record num_classes; set model.num_classes=N")
        cfg.model.num_classes = meta["num_classes"]
    names = cfg.data.get("class_names") or meta.get("class_names")
    model = cfg.build_model()
    _load_weights(model, ckpt, cfg, source=weights)
    model.eval()
    return model, names


def _engine_file_detector(cfg, path):
    """A detector running the graph file, decoding with the config's model (weights unused)."""
    from det.engine.export import EngineFileDetector
    from engine.jit import GraphFileError, load

    try:
        info = load(path).user_info
    except (FileNotFoundError, GraphFileError) as e:
        raise UsageError(str(e)) from e
    if cfg.model.get("num_classes") is None and isinstance(info, dict):
        cfg.model.num_classes = info.get("num_classes")
    decoder = cfg.build_model()
    decoder.eval()
    try:
        det = EngineFileDetector(path, decoder)
    except (KeyError, ValueError) as e:
        raise UsageError(_message(e)) from e
    return det, cfg.data.get("class_names") or det.class_names


def export(args):
    """Dump the checkpoint's network as an engine graph file (and ONNX); returns the DumpInfo."""
    from det.engine.export import canvas_size, export_detector

    cfg = _load_config(args.config_file, args.opts)
    setup_logger()
    model, names = _checkpoint_detector(cfg, args.weights)
    size = tuple(args.size) if args.size else canvas_size(cfg)
    if min(size) < 1:
        raise UsageError(f"--size must be positive, got {size}")
    info, traced = export_detector(model, size, args.out, optimize=not args.no_optimize,
                                   meta={"class_names": names})
    log = get_logger()
    log.info(f"{args.out}: {info.nr_opr} ops, {info.tot_bytes / 2**20:.1f} MiB, input images "
             f"(1, 3, {size[0]}, {size[1]}), outputs {info.outputs}")
    if args.onnx:
        from engine import onnx as engine_onnx

        engine_onnx.export(traced, args.onnx, input_names=["images"],
                           output_names=list(info.outputs))
        log.info(f"{args.onnx}: ONNX written")
    return info


def _load_weights(model, path_or_ckpt, cfg, source=None):
    from det.engine import load_model_weights

    try:
        load_model_weights(model, path_or_ckpt, strict=True, prefer_ema=bool(cfg.train.get("ema")),
                           source=source)
    except (FileNotFoundError, KeyError, ValueError) as e:
        raise UsageError(_message(e)) from e


# -------------------------------------------------------------------------- entry points
_COMMANDS = {"train": train, "test": test, "demo": demo, "export": export}


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        _COMMANDS[args.command](args)
    except (UsageError, ConfigBuildError) as e:
        # one line: a rank's error comes back from dist.launcher with its traceback appended
        first_line = (str(e).splitlines() or [""])[0]
        print(f"det {args.command}: error: {first_line}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as e:
        if not (e.name or "").startswith("det."):
            raise
        print(f"det {args.command}: error: {e.name} is missing from this installation of det "
              f"(the built-in configs need det.data, det.models and det.evaluation)",
              file=sys.stderr)
        return 2
    return 0


def train_main():
    return main(["train", *sys.argv[1:]])


def test_main():
    return main(["test", *sys.argv[1:]])


def demo_main():
    return main(["demo", *sys.argv[1:]])


def export_main():
    return main(["export", *sys.argv[1:]])
