"""Convert a torchvision ResNet state_dict (resnet18/34/50/101 .pth) for det's ResNet backbone.

    python tools/convert_torchvision_resnet.py resnet50-0676ba61.pth r50.pkl [--depth 50]

det.models.ResNet uses torchvision's parameter names, so every tensor keeps its key and shape;
the classifier (fc.*) and BatchNorm's num_batches_tracked counters have no counterpart in the
backbone and are dropped. The output is an engine.save file of {key: float32 numpy array} that
`ResNet(depth=..., pretrained=PATH)` loads (strictly: a wrong depth fails with the key names).
"""
import argparse
import sys

import numpy as np

# Keys with no counterpart in a detection backbone: the ImageNet classifier and BatchNorm's
# step counters.
DROPPED_PREFIXES = ("fc.",)
DROPPED_SUFFIXES = (".num_batches_tracked",)


def is_dropped(key):
    return key.startswith(DROPPED_PREFIXES) or key.endswith(DROPPED_SUFFIXES)


def convert_key(key):
    """torchvision key -> det key (the same name), or None when the key is dropped."""
    return None if is_dropped(key) else key


def convert_state_dict(state):
    """{torchvision key: array-like} -> {det key: float32 numpy array}."""
    out = {}
    for key, value in state.items():
        new = convert_key(key)
        if new is None:
            continue
        arr = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
        out[new] = arr.astype(np.float32)
    return out


def check_against_model(converted, depth):
    """Raise ValueError when `converted` does not fit det's ResNet of `depth` key for key."""
    from det.models.backbones.resnet import ResNet

    expected = {k: v.shape for k, v in ResNet(depth=depth).state_dict().items()}
    missing = sorted(set(expected) - set(converted))
    extra = sorted(set(converted) - set(expected))
    shapes = sorted(k for k in set(expected) & set(converted)
                    if tuple(np.shape(converted[k])) != tuple(expected[k]))
    if missing or extra or shapes:
        raise ValueError(f"converted state_dict does not fit ResNet(depth={depth}): missing "
                         f"{missing[:5]}, unexpected {extra[:5]}, shape mismatch {shapes[:5]}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", help="torchvision state_dict (.pth, loaded with torch.load)")
    parser.add_argument("dst", help="output file (engine.save format)")
    parser.add_argument("--depth", type=int, default=None,
                        help="check the result against det's ResNet of this depth")
    args = parser.parse_args(argv)
    import torch

    import engine

    state = torch.load(args.src, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    converted = convert_state_dict(state)
    if args.depth is not None:
        check_against_model(converted, args.depth)
    engine.save(converted, args.dst)
    print(f"wrote {len(converted)} tensors to {args.dst} "
          f"(dropped {len(state) - len(converted)}: fc and num_batches_tracked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
