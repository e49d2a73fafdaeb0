"""The registries are used: a hook, evaluator, dataset and transforms registered by a user are
built from the config by name and run during `det train`; bad entries stop the command with one
line naming the config key."""
import json
import os

import pytest

from det.cli import main
from det.data import COCODataset, build_transforms, ensure_shapes_dataset
from det.engine import HookBase
from det.evaluation import COCOEvaluator
from det.registry import (
    DATASETS,
    EVALUATORS,
    HOOKS,
    TRANSFORMS,
    ConfigBuildError,
    Registry,
    build_from_config,
)

HERE = os.path.dirname(os.path.abspath(__file__))
# the tiny shapes run of test_e2e_smoke: 16 training images of 64 px, 3 iterations
TINY = ["data.shapes.num_train=16", "data.shapes.num_val=4", "data.shapes.image_size=64",
        "data.min_size=64", "data.max_size=64", "data.num_workers=0", "train.max_iter=3",
        "train.batch_size=4", "train.warmup_iters=1", "train.steps=(2,)",
        "train.checkpoint_period=3", "test.batch_size=4", "train.log_period=1"]
CALLS = {}


@HOOKS.register()
class CountingHook(HookBase):
    """Counts its after_step calls and puts the count (a scalar the writer must see)."""

    def __init__(self, period, output_dir=None):
        self.period = period
        self.output_dir = output_dir

    def after_step(self):
        if (self.trainer.iter + 1) % self.period == 0:
            CALLS["hook"] = CALLS.get("hook", 0) + 1
            self.trainer.storage.put_scalar(self.trainer.iter, "hook_calls", CALLS["hook"])


@TRANSFORMS.register()
class CountingTransform:
    def __init__(self, tag):
        self.tag = tag

    def __call__(self, item, rng):
        CALLS[self.tag] = CALLS.get(self.tag, 0) + 1
        return item


@DATASETS.register()
class ShapesSplit(COCODataset):
    """A user dataset: a split of a shapes dataset at `root`; takes the offered transforms and
    training flag."""

    def __init__(self, root, split, transforms=None, training=False):
        paths = ensure_shapes_dataset(root, num_train=16, num_val=4, image_size=64)
        super().__init__(paths[f"{split}_json"], paths[f"{split}_images"], transforms,
                         training)
        CALLS[f"dataset_{split}"] = len(self)


@EVALUATORS.register()
class CountingCOCOEvaluator(COCOEvaluator):
    """COCO AP plus the number of processed images; takes only what it needs from the context
    (coco_gt and class_names, not output_dir or dataset)."""

    def __init__(self, coco_gt, class_names=None, prefix="n"):
        super().__init__(coco_gt, class_names=class_names)
        self.prefix = prefix

    def process(self, outputs, batch):
        CALLS["evaluated"] = CALLS.get("evaluated", 0) + len(outputs)
        super().process(outputs, batch)

    def evaluate(self):
        return dict(super().evaluate(), **{f"{self.prefix}_images": float(CALLS["evaluated"])})


@pytest.fixture(autouse=True)
def _clear_calls():
    CALLS.clear()


def test_user_entries_are_built_by_name_and_run_in_det_train(tmp_path, monkeypatch):
    monkeypatch.setenv("DET_CACHE_DIR", str(tmp_path / "cache"))
    root = str(tmp_path / "cache" / "shapes")
    out = tmp_path / "out"
    # overrides are Python literals: dict displays
    argv = ["train", "-f", "fcos_r18_shapes", f"output_dir={out}", *TINY,
            "train.hooks=[{'name': 'CountingHook', 'period': 1}]",
            f"data.train_dataset={{'name': 'ShapesSplit', 'root': {root!r}, 'split': 'train'}}",
            f"data.test_dataset={{'name': 'ShapesSplit', 'root': {root!r}, 'split': 'val'}}",
            "data.train_transforms=[{'name': 'ResizeShortestEdge', 'min_size': 64, "
            "'max_size': 64}, {'name': 'CountingTransform', 'tag': 'train_t'}]",
            "data.test_transforms=[{'name': 'CountingTransform', 'tag': 'test_t'}]",
            "test.evaluator={'name': 'CountingCOCOEvaluator', 'prefix': 'seen'}"]
    assert main(argv) == 0
    assert CALLS["hook"] == 3  # one per iteration
    assert CALLS["dataset_train"] == 16 and CALLS["dataset_val"] == 4
    assert CALLS["train_t"] == 3 * 4  # 3 batches of 4 images, each transformed once
    assert CALLS["test_t"] == 4 and CALLS["evaluated"] == 4  # the final evaluation
    rows = [json.loads(s) for s in (out / "metrics.json").read_text().splitlines()]
    assert [r.get("hook_calls") for r in rows] == [1.0, 2.0, 3.0]  # written by the writer
    assert rows[-1]["bbox/seen_images"] == 4.0


def test_default_transforms_go_through_the_registry_unchanged():
    from det.config import get_config

    cfg = get_config("fcos_r18_shapes")
    assert repr(build_transforms(cfg, training=True)) == (
        "Compose([ResizeShortestEdge(min_size=(128,), max_size=128), RandomFlip(prob=0.5)])")
    assert repr(build_transforms(cfg, training=False)) == (
        "Compose([ResizeShortestEdge(min_size=(128,), max_size=128)])")
    assert {"COCODataset", "ShapesDataset"} <= set(DATASETS)
    assert "COCOEvaluator" in EVALUATORS


def test_context_is_offered_only_to_parameters_that_take_it():
    reg = Registry("things")

    @reg.register()
    class Plain:
        def __init__(self, a):
            self.a = a

    @reg.register()
    class Greedy:
        def __init__(self, **kwargs):
            self.kwargs = kwargs

    assert build_from_config(reg, {"name": "Plain", "a": 1}, "k", {"b": 2}).a == 1
    assert build_from_config(reg, {"name": "Plain"}, "k", {"a": 3}).a == 3
    assert build_from_config(reg, {"name": "Plain", "a": 1}, "k", {"a": 3}).a == 1  # config wins
    assert build_from_config(reg, {"name": "Greedy"}, "k", {"b": 2}).kwargs == {"b": 2}

    @reg.register()
    class Needy:
        def __init__(self, a, **kwargs):
            pass

    with pytest.raises(ConfigBuildError, match=r"^k: the arguments \(b\) do not fit Needy"):
        build_from_config(reg, {"name": "Needy"}, "k", {"b": 2})  # **kwargs still needs a


@pytest.mark.parametrize("spec, message", [
    ({"name": "Nope"}, r"^x\.y\[0\]: no things entry named 'Nope'; registered: Box$"),
    ({"name": "Box", "c": 1}, r"^x\.y\[0\]: the arguments \(a, c\) do not fit Box\(a, b=2\)"),
    ({"name": "Box"}, r"^x\.y\[0\]: the arguments \(\) do not fit Box\(a, b=2\): missing"),
    ({"a": 1}, r"^x\.y\[0\]: expected a dict with a 'name' key"),
    ("Box", r"^x\.y\[0\]: expected a dict with a 'name' key"),
])
def test_bad_entries_name_the_config_key(spec, message):
    reg = Registry("things")

    @reg.register()
    class Box:
        def __init__(self, a, b=2):
            pass

    context = {"a": 1} if spec == {"name": "Box", "c": 1} else None
    with pytest.raises(ConfigBuildError, match=message):
        build_from_config(reg, spec, "x.y[0]", context)


@pytest.fixture
def cfg_file(tmp_path):
    path = tmp_path / "toy_config.py"
    path.write_text(f"import sys\nsys.path.insert(0, {HERE!r})\n"
                    "from det_core_fakes import ToyConfig\n\n\n"
                    "class Config(ToyConfig):\n"
                    "    pass\n")
    return str(path)


@pytest.mark.parametrize("override, message", [
    ("train.hooks=[{'name': 'NoSuchHook'}]",
     "det train: error: train.hooks[0]: no hooks entry named 'NoSuchHook'; registered: "),
    ("train.hooks=[{'name': 'CountingHook', 'perod': 2}]",
     "det train: error: train.hooks[0]: the arguments (output_dir, perod) do not fit "
     "CountingHook(period, output_dir=None)"),
    ("train.hooks={'name': 'CountingHook'}",
     "det train: error: config override train.hooks={'name': 'CountingHook'}: train.hooks is a "
     "list ([]); expected a list"),
])
def test_bad_hook_entries_exit_2_with_one_line(cfg_file, tmp_path, capsys, override, message):
    assert main(["train", "-f", cfg_file, f"output_dir={tmp_path}", override]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(message) and "\n" not in err, err
    assert not (tmp_path / "model_final.pkl").exists()


def test_a_config_file_with_hooks_not_a_list_is_named():
    from det_core_fakes import ToyConfig

    from det.engine import build_hooks

    cfg = ToyConfig()
    cfg.train.hooks = {"name": "CountingHook", "period": 1}
    with pytest.raises(ConfigBuildError, match=r"^train\.hooks: expected a list of dicts"):
        build_hooks(cfg)
    cfg.train.hooks = [{"name": "CountingHook", "period": 1}]
    assert [type(h).__name__ for h in build_hooks(cfg)] == ["CountingHook"]


def test_evaluator_typo_stops_before_training(tmp_path, capsys):
    # a config using BaseConfig.build_evaluator: the check runs before the first iteration
    path = tmp_path / "cfg.py"
    path.write_text(f"import sys\nsys.path.insert(0, {HERE!r})\n"
                    "from det_core_fakes import ToyConfig\nfrom det.config import BaseConfig\n\n\n"
                    "class Config(ToyConfig):\n"
                    "    build_evaluator = BaseConfig.build_evaluator\n")
    out = tmp_path / "out"
    assert main(["train", "-f", str(path), f"output_dir={out}",
                 "test.evaluator={'name': 'COCOEvaluatr'}"]) == 2
    err = capsys.readouterr().err
    assert "test.evaluator: no evaluators entry named 'COCOEvaluatr'; registered: " in err
    assert "COCOEvaluator" in err and not (out / "model_0000002.pkl").exists()


def test_user_head_is_built_by_name_with_the_offered_arguments():
    import numpy as np

    import det.models  # noqa: F401  (registers FCOS and its parts)
    from det.models.heads.fcos import FCOSHead
    from det.registry import HEADS, MODELS

    @HEADS.register()
    class CountingFCOSHead(FCOSHead):
        """The built-in head with one extra argument; counts its forward calls."""

        def __init__(self, num_classes, in_channels, num_levels, tag):
            super().__init__(num_classes, in_channels, num_levels, num_convs=1, norm="GN")
            self.tag = tag

        def forward(self, feats):
            CALLS[self.tag] = CALLS.get(self.tag, 0) + 1
            return super().forward(feats)

    model = MODELS.build({"name": "FCOS", "num_classes": 3,
                          "backbone": {"depth": 18, "width": 8},
                          "neck": {"out_channels": 16},
                          "head": {"name": "CountingFCOSHead", "tag": "head_calls"}})
    assert type(model.head) is CountingFCOSHead and model.head.num_classes == 3
    rng = np.random.RandomState(0)
    batch = {"images": rng.randint(0, 256, (1, 3, 64, 64)).astype(np.uint8),
             "image_sizes": np.array([[64, 64]], np.int32),
             "boxes": [np.array([[4, 4, 40, 40]], np.float32)],
             "labels": [np.array([1], np.int32)]}
    losses = model(batch, mode="loss")
    assert CALLS["head_calls"] == 1 and np.isfinite(losses["loss_cls"].item())
    with pytest.raises(ConfigBuildError, match=r"^model\.head: no heads entry named 'NoHead'"):
        MODELS.build({"name": "FCOS", "num_classes": 3, "backbone": {"depth": 18, "width": 8},
                      "head": {"name": "NoHead"}})
