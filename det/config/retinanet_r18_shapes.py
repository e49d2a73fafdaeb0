"""RetinaNet, ResNet-18 + a narrow FPN, on the generated shapes dataset."""
from det.models.defaults import retinanet_r18_shapes

from . import fcos_r18_shapes


class Config(fcos_r18_shapes.Config):
    def __init__(self):
        super().__init__()
        self.model = retinanet_r18_shapes(num_classes=None)  # anchors sized for 128 px images
        self.output_dir = "./outputs/retinanet_r18_shapes"
