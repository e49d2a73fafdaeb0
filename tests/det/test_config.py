"""Config system: built-in configs, inheritance, file configs, overrides, dump, num_classes."""
import os

import pytest

from det.config import (
    BUILTIN_CONFIGS,
    BaseConfig,
    apply_overrides,
    dump_config,
    get_config,
    resolve_num_classes,
)

CONTRACT_KEYS = [
    "data.train_json", "data.train_images", "data.val_json", "data.val_images",
    "data.num_workers", "data.size_divisibility", "data.min_size", "data.max_size",
    "model.num_classes", "model.backbone.depth", "train.max_iter", "train.batch_size",
    "train.base_lr", "train.momentum", "train.weight_decay", "train.warmup_iters",
    "train.lr_schedule", "train.steps", "train.checkpoint_period", "train.eval_period",
    "train.log_period", "output_dir", "seed", "test.batch_size",
]


def _get(cfg, key):
    value = cfg
    for part in key.split("."):
        value = getattr(value, part)
    return value


@pytest.mark.parametrize("name", BUILTIN_CONFIGS)
def test_builtin_configs_have_the_contract_keys(name):
    cfg = get_config(name)
    for key in CONTRACT_KEYS:
        _get(cfg, key)  # AttributeError names a missing one
    assert cfg.model.name in ("FCOS", "RetinaNet")
    assert cfg.model.num_classes is None  # taken from the dataset
    assert cfg.train.lr_schedule in ("multistep", "cosine")


def test_inheritance_between_builtins():
    fcos, retina = get_config("fcos_r18_shapes"), get_config("retinanet_r18_shapes")
    assert retina.model.name == "RetinaNet" and fcos.model.name == "FCOS"
    assert retina.data == fcos.data and retina.model.backbone.depth == 18
    assert get_config("retinanet_r50").model.backbone.depth == 50
    assert fcos.output_dir != retina.output_dir
    # instances do not share sections
    fcos.train.max_iter = 1
    assert get_config("fcos_r18_shapes").train.max_iter != 1


def test_shapes_cache_dir_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("DET_CACHE_DIR", str(tmp_path))
    cfg = get_config("fcos_r18_shapes")
    assert cfg.data.shapes.root == str(tmp_path / "shapes")
    assert cfg.data.train_json.startswith(str(tmp_path))


def test_overrides_with_types():
    cfg = get_config("fcos_r18_shapes")
    apply_overrides(cfg, ["train.max_iter=100", "train.base_lr=1", "seed=3",
                          "model.backbone.depth=34", "train.steps=(50, 80)", "train.ema=True",
                          "output_dir=/tmp/out dir", "train.lr_schedule='cosine'",
                          "model.backbone.pretrained=weights/r34.pkl", "model.num_classes=3"])
    assert cfg.train.max_iter == 100
    assert cfg.train.base_lr == 1.0 and isinstance(cfg.train.base_lr, float)
    assert cfg.seed == 3 and cfg.model.backbone.depth == 34
    assert cfg.train.steps == (50, 80)
    assert cfg.train.ema is True
    assert cfg.output_dir == "/tmp/out dir"
    assert cfg.train.lr_schedule == "cosine"
    assert cfg.model.backbone.pretrained == "weights/r34.pkl"  # None key: anything
    assert cfg.model.num_classes == 3
    apply_overrides(cfg, ["train.steps=[10]", "train.ema=false", "model.backbone.pretrained=None"])
    assert cfg.train.steps == (10,) and cfg.train.ema is False
    assert cfg.model.backbone.pretrained is None


@pytest.mark.parametrize("item, error, message", [
    ("train.max_iters=5", KeyError, r"unknown config key 'train.max_iters'.*Did you mean "
                                    r"'max_iter'"),
    ("trian.max_iter=5", KeyError, r"the config has no key 'trian'"),
    ("model.backbone.widht=5", KeyError, r"section 'model.backbone' has no key 'widht'"),
    ("seed.x=1", KeyError, r"'seed' is a int \(0\), not a section"),
    ("train.max_iter=1.5", TypeError, r"train.max_iter is a int \(1100\); expected an int"),
    ("train.max_iter=True", TypeError, r"expected an int"),
    ("train.base_lr=fast", TypeError, r"train.base_lr is a float.*expected a number"),
    ("train.ema=1", TypeError, r"expected True or False"),
    ("train.steps=100", TypeError, r"expected a tuple, e.g. train.steps=\(1, 2\)"),
    ("train.steps=(1.5, 2)", TypeError, r"train.steps\[0\].*expected an int"),
    ("train.max_iter=None", TypeError, r"train.max_iter is a int"),
    ("model=3", TypeError, r"model is a ConfigDict.*override its keys one by one"),
    ("train.max_iter", ValueError, r"expected KEY=VALUE"),
    ("=3", ValueError, r"expected KEY=VALUE"),
    ("train..x=3", KeyError, r"malformed key"),
])
def test_override_errors(item, error, message):
    with pytest.raises(error, match=message):
        apply_overrides(get_config("fcos_r18_shapes"), [item])


def test_config_file_class_inherits_builtin(tmp_path):
    path = tmp_path / "my_cfg.py"
    path.write_text(
        "from det.config import fcos_r18_shapes\n"
        "class Config(fcos_r18_shapes.Config):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.train.max_iter = 77\n"
        "        self.data.extra = 'x'\n")
    cfg = get_config(str(path))
    assert cfg.train.max_iter == 77 and cfg.model.name == "FCOS" and cfg.data.extra == "x"


def test_config_file_dict_with_base(tmp_path):
    path = tmp_path / "dict_cfg.py"
    path.write_text("config = {'_base_': 'retinanet_r18_shapes', 'train': {'max_iter': 9},\n"
                    "          'model': {'backbone': {'depth': 34}}, 'seed': 5}\n")
    cfg = get_config(str(path))
    assert cfg.model.name == "RetinaNet" and cfg.model.backbone.depth == 34
    assert cfg.model.backbone.name == "ResNet"  # merged, not replaced
    assert cfg.train.max_iter == 9 and cfg.train.base_lr == 0.02 and cfg.seed == 5


def test_bad_config_sources(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a built-in config name.*fcos_r18_shapes"):
        get_config("fcos_r999")
    with pytest.raises(FileNotFoundError, match="no such file"):
        get_config(str(tmp_path / "missing.py"))
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    with pytest.raises(TypeError, match=r"neither `class Config\(BaseConfig\)` nor"):
        get_config(str(empty))


def test_dump_round_trips(tmp_path):
    cfg = apply_overrides(get_config("fcos_r50"), ["train.max_iter=5", "model.num_classes=80"])
    path = dump_config(cfg, str(tmp_path / "run"))
    assert path.endswith("config.py")
    again = get_config(path)
    assert again.to_dict() == cfg.to_dict()
    assert isinstance(again.train.steps, tuple)


def test_dump_falls_back_to_json(tmp_path):
    cfg = BaseConfig()
    cfg.data.transform = object()  # not a Python literal
    path = dump_config(cfg, str(tmp_path))
    assert path.endswith("config.json")
    assert '"max_iter": 90000' in open(path).read()


def test_num_classes_from_dataset_and_mismatch():
    cfg = get_config("fcos_r18_shapes")
    assert resolve_num_classes(cfg, 3) == 3 and cfg.model.num_classes == 3
    resolve_num_classes(cfg, 3)  # equal: fine
    with pytest.raises(ValueError, match=r"model.num_classes is 3 but the dataset has 5 "
                                         r"categories"):
        resolve_num_classes(cfg, 5)
    with pytest.raises(ValueError, match="at least one"):
        resolve_num_classes(get_config("fcos_r18_shapes"), 0)


def test_coco_paths_missing_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"data.train_json = './datasets/coco/annotations/"
                                                r"instances_train2017.json' does not exist"):
        get_config("fcos_r50").prepare_data()
    with pytest.raises(FileNotFoundError, match="data.val_json"):
        get_config("retinanet_r50").prepare_data(train=False)


def test_shapes_generated_on_prepare(tmp_path, monkeypatch):
    """prepare_data hands data.shapes to det.data.shapes.ensure_shapes_dataset (recorded here;
    it writes empty files at the real layout instead of rendering 2100 images)."""
    import det.data.shapes as shapes

    calls = []

    def ensure_shapes_dataset(root, num_train, num_val, image_size, seed):
        calls.append((num_train, num_val, image_size, seed))
        paths = shapes.shapes_paths(root)
        os.makedirs(paths["train_images"], exist_ok=True)
        for key in ("train_json", "val_json"):
            with open(paths[key], "w") as f:
                f.write("{}")

    monkeypatch.setattr(shapes, "ensure_shapes_dataset", ensure_shapes_dataset)
    monkeypatch.setenv("DET_CACHE_DIR", str(tmp_path))
    cfg = get_config("fcos_r18_shapes")
    cfg.prepare_data()
    assert calls == [(2000, 100, 128, 0)]
