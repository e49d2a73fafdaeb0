"""engine.core.ops.builtin: MegEngine's op descriptors, applied with
``engine.core._imperative_rt.core2.apply(op, *tensors)``.

Each descriptor computes with engine's own functional code (so its outputs carry gradients like
any engine op); descriptors compare and hash by type and attributes.
"""
from ._base import OpDef
from .elemwise import Elemwise, ElemwiseMultiType, Identity, TypeCvt
from .indexing import (
                       BatchedIncrMeshIndexing,
                       BatchedMeshIndexing,
                       BatchedSetMeshIndexing,
                       IncrMeshIndexing,
                       IncrSubtensor,
                       IndexingIncrMultiAxisVec,
                       IndexingMultiAxisVec,
                       IndexingOneHot,
                       IndexingSetMultiAxisVec,
                       IndexingSetOneHot,
                       MeshIndexing,
                       SetMeshIndexing,
                       SetSubtensor,
                       Subtensor,
)
from .random import (
                       BetaRNG,
                       ExponentialRNG,
                       GammaRNG,
                       GaussianRNG,
                       MultinomialRNG,
                       PermutationRNG,
                       PoissonRNG,
                       UniformRNG,
)
from .tensor import (
                       Broadcast,
                       Concat,
                       CondTake,
                       Dimshuffle,
                       GetVarShape,
                       LAMBUpdate,
                       NMSKeep,
                       Reduce,
                       Reshape,
)

__all__ = [
    "OpDef", "Elemwise", "ElemwiseMultiType", "Identity", "TypeCvt", "Subtensor",
    "SetSubtensor", "IncrSubtensor", "IndexingMultiAxisVec", "IndexingSetMultiAxisVec",
    "IndexingIncrMultiAxisVec", "MeshIndexing", "SetMeshIndexing", "IncrMeshIndexing",
    "BatchedMeshIndexing", "BatchedSetMeshIndexing", "BatchedIncrMeshIndexing", "IndexingOneHot",
    "IndexingSetOneHot", "GaussianRNG", "UniformRNG", "GammaRNG", "BetaRNG", "PoissonRNG",
    "ExponentialRNG", "MultinomialRNG", "PermutationRNG", "Dimshuffle", "Broadcast", "Reshape",
    "GetVarShape", "Concat", "Reduce", "CondTake", "NMSKeep", "LAMBUpdate",
]
