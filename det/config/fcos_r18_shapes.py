"""FCOS, ResNet-18 + a narrow FPN, on the generated shapes dataset (the default config).

Sized for `python -m det train` on a 2-core CPU: 128 px images, few validation images, narrow
neck/head; the dataset is generated into the cache directory on first use.
"""
import os

from det.data.shapes import shapes_paths
from det.models.defaults import fcos_r18_shapes

from .base import BaseConfig, default_cache_dir


class Config(BaseConfig):
    def __init__(self):
        super().__init__()
        root = os.path.join(default_cache_dir(), "shapes")
        self.data.update(
            **shapes_paths(root),  # the layout ensure_shapes_dataset writes
            num_workers=1,
            min_size=128,
            max_size=128,
            shapes=dict(root=root, num_train=2000, num_val=100, image_size=128, seed=0),
        )
        # half-width ResNet-18, 64-channel FPN, towers of 2 convs (det/models/defaults.py);
        # num_classes None: the dataset's category count (3: circle, square, triangle)
        self.model = fcos_r18_shapes(num_classes=None)
        # ~0.4 s per iteration on a 2-core CPU: 1100 iterations of 8 images (4.4 epochs of the
        # 2000 training images) fit `python -m det train` in 10 minutes with the evaluation.
        self.train.update(
            max_iter=1100,
            batch_size=8,
            base_lr=0.02,
            warmup_iters=100,
            steps=(850, 1000),
            checkpoint_period=550,
            eval_period=550,
            log_period=20,
        )
        self.test.batch_size = 16
        self.output_dir = "./outputs/fcos_r18_shapes"
