"""det: a BaseDet-style object-detection package built on engine.

    python -m det train                      # FCOS R18 on the generated shapes dataset
    python -m det test -f fcos_r18_shapes -w outputs/fcos_r18_shapes/model_final.pkl
    python -m det demo -f fcos_r18_shapes -w ... image.png --out vis/

Subpackages import lazily: det.config, det.engine, det.registry, det.utils here; det.data,
det.evaluation and det.models (which pull in pycocotools and the model code) when used.
"""
__version__ = "0.1.0"
