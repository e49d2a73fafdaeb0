"""BaseConfig: a plain-Python config (BaseDet style) with nested sections.

A config is a class; inheritance is Python inheritance, and a derived config edits the sections
its parent built:

    class Config(fcos_r18_shapes.Config):
        def __init__(self):
            super().__init__()
            self.train.max_iter = 3000
            self.model.backbone.depth = 34

Sections are ConfigDicts (dicts with attribute access), so `cfg.train.max_iter` and
`cfg.model["backbone"]` both work and `MODELS.build(cfg.model)` receives a dict.

Besides data, a config owns the builders the commands call (`build_model`, `build_train_loader`,
`build_test_loader`, `build_evaluator`, `prepare_data`). They import det.models / det.data /
det.evaluation only when called, and a config file may override them (the tests train a tiny
fake model this way).
"""
import copy
import os

__all__ = ["ConfigDict", "BaseConfig", "default_cache_dir"]


def default_cache_dir():
    """Where generated datasets live: $DET_CACHE_DIR, else ~/.cache/det."""
    return os.environ.get("DET_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache",
                                                           "det")


class ConfigDict(dict):
    """A dict whose keys are also attributes; nested dicts become ConfigDicts."""

    def __init__(self, *args, **kwargs):
        super().__init__()
        for k, v in dict(*args, **kwargs).items():
            self[k] = v

    def __setitem__(self, key, value):
        super().__setitem__(key, _wrap(value))

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"config section has no key {name!r} (keys: "
                                 f"{sorted(self)})") from None

    def __setattr__(self, name, value):
        self[name] = value

    def __delattr__(self, name):
        del self[name]

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args, **kwargs):
        for k, v in dict(*args, **kwargs).items():
            self[k] = v

    def __deepcopy__(self, memo):
        return ConfigDict({k: copy.deepcopy(v, memo) for k, v in self.items()})

    def to_dict(self):
        """Plain nested dicts (for printing and dumping)."""
        return {k: v.to_dict() if isinstance(v, ConfigDict) else v for k, v in self.items()}


def _wrap(value):
    if isinstance(value, dict) and not isinstance(value, ConfigDict):
        return ConfigDict(value)
    return value


class BaseConfig:
    """Defaults shared by every config: detectron2's 1x COCO schedule, no model.

    Keys (exact names other det parts rely on): data.train_json, data.train_images,
    data.val_json, data.val_images, data.num_workers, data.size_divisibility, data.min_size,
    data.max_size, model (a dict for MODELS.build; model.num_classes None = the dataset's
    category count), train.max_iter, train.batch_size, train.base_lr, train.momentum,
    train.weight_decay, train.warmup_iters, train.lr_schedule ("multistep" | "cosine"),
    train.steps, train.checkpoint_period, train.eval_period, train.log_period, train.hooks,
    test.batch_size, test.evaluator, output_dir, seed. Registry entries (by name, det.registry):
    data.train_dataset, data.test_dataset, data.train_transforms, data.test_transforms,
    train.hooks, test.evaluator, model.
    """

    def __init__(self):
        self.data = dict(
            train_json=None, train_images=None, val_json=None, val_images=None,
            num_workers=2,
            size_divisibility=32,
            min_size=800,  # shortest edge after resizing (train may use a tuple: random choice)
            max_size=1333,  # longest edge cap
            flip_prob=0.5,
            class_names=None,  # None: the dataset's category names
            # dict(root=..., num_train=..., num_val=..., image_size=..., seed=...): generate the
            # shapes dataset there on first use (det.data.shapes.ensure_shapes_dataset)
            shapes=None,
            # registry entries (det.registry); None: COCODataset over the json/images above
            # and the standard transforms (det.data.build_dataset, build_transforms)
            train_dataset=None,  # e.g. dict(name="ShapesDataset", root=..., split="train")
            test_dataset=None,
            train_transforms=None,  # e.g. [dict(name="RandomFlip", prob=0.5), ...]
            test_transforms=None,
        )
        self.model = dict(name=None, num_classes=None)
        self.train = dict(
            max_iter=90000,
            batch_size=16,
            base_lr=0.01,
            momentum=0.9,
            weight_decay=1e-4,
            warmup_iters=1000,
            warmup_factor=0.001,
            lr_schedule="multistep",
            steps=(60000, 80000),  # multistep: iterations where lr *= gamma
            gamma=0.1,
            checkpoint_period=5000,
            max_to_keep=3,  # periodic checkpoints kept on disk (model_final is always kept)
            eval_period=0,  # 0: evaluate only at the end
            log_period=20,
            ema=False,  # evaluate with an exponential moving average of the weights
            ema_decay=0.9998,
            # extra hooks, dicts for det.registry.HOOKS (e.g. dict(name="MyHook", period=5)),
            # run in this order after the default ones and before the writer
            hooks=[],
        )
        # evaluator: a dict for det.registry.EVALUATORS (build_evaluator offers it coco_gt,
        # output_dir, class_names and dataset)
        self.test = dict(batch_size=8, evaluator=dict(name="COCOEvaluator"))
        self.output_dir = "./outputs/det"
        self.seed = 0

    def __setattr__(self, name, value):
        super().__setattr__(name, _wrap(value))

    # ------------------------------------------------------------------ data view
    def keys(self):
        """Top-level keys: public instance attributes that are data, in insertion order."""
        return [k for k, v in vars(self).items() if not k.startswith("_") and not callable(v)]

    def to_dict(self):
        return {k: v.to_dict() if isinstance(v, ConfigDict) else copy.deepcopy(v)
                for k, v in ((k, getattr(self, k)) for k in self.keys())}

    def __repr__(self):
        import pprint

        return f"{type(self).__name__}(\n{pprint.pformat(self.to_dict(), sort_dicts=False)}\n)"

    # ------------------------------------------------------------------ builders
    def prepare_data(self, train=True):
        """Generate the shapes dataset if configured, then check that the json files and image
        folders exist (a clear message instead of a crash inside the loader)."""
        shapes = self.data.get("shapes")
        if shapes:
            from det.data.shapes import ensure_shapes_dataset

            ensure_shapes_dataset(**shapes)
        keys = ("train_json", "train_images", "val_json", "val_images") if train else \
            ("val_json", "val_images")
        for key in keys:
            path = self.data.get(key)
            if path is None or not os.path.exists(path):
                raise FileNotFoundError(
                    f"data.{key} = {path!r} does not exist. Put the dataset there (COCO: "
                    f"https://cocodataset.org/#download, 2017 train/val images and annotations) "
                    f"or point the config at it with data.{key}=PATH")

    def build_model(self):
        from det.registry import MODELS

        _import_if_needed("det.models", self.model.get("name"), MODELS)
        return MODELS.build(self.model)

    def build_train_loader(self):
        from det.data import build_train_loader

        return build_train_loader(self)

    def build_test_loader(self):
        from det.data import build_test_loader

        return build_test_loader(self)

    def build_evaluator(self, output_dir=None, dataset=None):
        """The evaluator test.evaluator names (default COCOEvaluator), offered
        EVALUATOR_CONTEXT: coco_gt (the test dataset's json, else data.val_json), output_dir,
        class_names (data.class_names, else the dataset's) and dataset; a constructor gets
        those it has parameters for."""
        from det.registry import EVALUATORS, build_from_config

        spec = self.evaluator_spec()
        _import_if_needed("det.evaluation", _name_of(spec), EVALUATORS)
        names = self.data.get("class_names") or getattr(dataset, "class_names", None)
        coco_gt = getattr(dataset, "json_path", None) or self.data.get("val_json")
        context = dict(zip(EVALUATOR_CONTEXT, (coco_gt, output_dir, names, dataset)))
        return build_from_config(EVALUATORS, spec, "test.evaluator", context)

    def check_evaluator(self):
        """Raise det.registry.ConfigBuildError now if test.evaluator cannot be built (unknown
        name, arguments its constructor does not take), without building it; configs that
        override build_evaluator are theirs to check."""
        from det.registry import EVALUATORS, check_config_spec

        if type(self).build_evaluator is not BaseConfig.build_evaluator:
            return
        spec = self.evaluator_spec()
        _import_if_needed("det.evaluation", _name_of(spec), EVALUATORS)
        check_config_spec(EVALUATORS, spec, "test.evaluator", EVALUATOR_CONTEXT)

    def evaluator_spec(self):
        """test.evaluator, or COCOEvaluator for a config (or a file) without that key."""
        spec = self.test.get("evaluator")
        return dict(name="COCOEvaluator") if spec is None else spec


EVALUATOR_CONTEXT = ("coco_gt", "output_dir", "class_names", "dataset")


def _name_of(spec):
    return spec.get("name") if isinstance(spec, dict) else None


def _import_if_needed(package, name, registry):
    """Import `package` (which registers the real models) unless `name` is registered already
    (by a config file or a test), so a tree without det.models can still train a custom one."""
    import importlib

    if name in registry:
        return
    try:
        importlib.import_module(package)
    except ModuleNotFoundError as e:
        if e.name != package:
            raise
        raise ModuleNotFoundError(f"{name!r} is not registered in {registry!r} and {package}, "
                                  f"which registers the built-in ones, is not installed") from e
