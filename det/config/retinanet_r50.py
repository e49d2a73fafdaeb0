"""RetinaNet R50-FPN on COCO 2017, detectron2's 1x schedule."""
from . import fcos_r50


class Config(fcos_r50.Config):
    def __init__(self):
        super().__init__()
        self.model.name = "RetinaNet"
        self.model.test.nms_thresh = 0.5
        self.output_dir = "./outputs/retinanet_r50"
