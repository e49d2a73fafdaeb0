"""FCOS R50-FPN on COCO 2017, detectron2's 1x schedule (90k iterations at batch 16).

The dataset is expected under ./datasets/coco (annotations/instances_{train,val}2017.json,
train2017/, val2017/); a missing path stops the run with a message naming the key to set.
"""
from .base import BaseConfig

COCO = "./datasets/coco"


class Config(BaseConfig):
    def __init__(self):
        super().__init__()
        self.data.update(
            train_json=f"{COCO}/annotations/instances_train2017.json",
            train_images=f"{COCO}/train2017",
            val_json=f"{COCO}/annotations/instances_val2017.json",
            val_images=f"{COCO}/val2017",
            num_workers=4,
            min_size=800,
            max_size=1333,
        )
        self.model = dict(
            name="FCOS",
            num_classes=None,  # 80 from the COCO json
            # pretrained: a file written by tools/convert_torchvision_resnet.py, or None
            backbone=dict(name="ResNet", depth=50, pretrained=None),
            neck=dict(name="FPN", out_channels=256),
            head=dict(num_convs=4),
            test=dict(score_thresh=0.05, topk_per_level=1000, nms_thresh=0.6,
                      max_detections=100),
        )
        self.train.update(max_iter=90000, batch_size=16, base_lr=0.01, warmup_iters=1000,
                          steps=(60000, 80000), checkpoint_period=5000, eval_period=0)
        self.test.batch_size = 8
        self.output_dir = "./outputs/fcos_r50"
