"""RetinaNet, ResNet-18 + a narrow FPN, on the generated shapes dataset."""
from . import fcos_r18_shapes


class Config(fcos_r18_shapes.Config):
    def __init__(self):
        super().__init__()
        self.model.name = "RetinaNet"
        self.model.test.nms_thresh = 0.5
        self.output_dir = "./outputs/retinanet_r18_shapes"
