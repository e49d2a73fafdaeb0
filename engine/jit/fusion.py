"""Op fusions over a recorded Program that keep every result bit for bit (a replayed training
step, opt_level >= 2): a pair of ops becomes one native pass when the value between them has
no other reader and is not returned.

    BatchNorm -> Relu             BatchNormRelu: the ReLU in the normalising pass, y never
                                  stored
    Add -> Relu                   AddRelu: a residual block's end in one pass
    ReluGrad -> BatchNormGrad     BatchNormReluGrad: the ReLU's gradient applied as the batch
                                  norm backward reads it, dy never stored

The fused kernels run the same float operations in the same order as the pairs
(csrc/cpu/norm.cpp, csrc/cpu/arith.cpp), so the replay equals the eager step exactly. CPU
programs only: the fused kernels are CPU kernels.
"""
from ..ops import elemwise as _ew
from ..ops import nn as _nn
from ..ops import norm as _norm
from .program import OP, Program, reads

# op -> the op that applies a ReLU to its first output in the same pass
_WITH_RELU = {_norm.BatchNorm: _norm.BatchNormRelu, _ew.Add: _nn.AddRelu}


def fuse_with_relu(program):
    """The program with these fusions applied, or the program itself where none applies."""
    if any(d.xp.__name__ != "numpy" for d in program.devices):
        return program
    steps = list(program.steps)
    readers, made_by = {}, {}
    for i, step in enumerate(steps):
        for s in reads(step):
            readers.setdefault(s, []).append(i)
        if step[0] == OP:
            for s in step[4]:
                made_by[s] = i
    kept = program.output_slots

    def only_reader(slot, i):
        return slot not in kept and readers.get(slot) == [i]

    dropped = set()
    for j, step in enumerate(steps):
        if step[0] != OP:
            continue
        op, ins = step[1], step[3]
        if op is _nn.Relu:  # BatchNorm's y, or a sum, read by this ReLU alone
            i = made_by.get(ins[0])
            if i is None or steps[i][1] not in _WITH_RELU or steps[i][4][0] != ins[0] or \
                    not only_reader(ins[0], j):
                continue
            _, first, attrs, first_ins, first_outs, device = steps[i]
            steps[i] = (OP, _WITH_RELU[first], attrs, first_ins,
                        [step[4][0]] + list(first_outs[1:]), device)
            dropped.add(j)
        elif op is _norm.BatchNormGrad:  # its dy made by a ReluGrad read by nothing else
            k = made_by.get(ins[1])
            if len(ins) != 5 or k is None or k in dropped or steps[k][1] is not _nn.ReluGrad \
                    or not only_reader(ins[1], j):
                continue
            dz, z = steps[k][3]
            x, _, mean, var, w = ins
            steps[j] = (OP, _norm.BatchNormReluGrad, step[2], [x, dz, z, mean, var, w],
                        step[4], step[5])
            dropped.add(k)
    if not dropped:
        return program
    out = Program(program.name, program.devices, program.specs, program.input_slots,
                  program.externals, [s for i, s in enumerate(steps) if i not in dropped],
                  program.outputs, program.final_grads)
    out.tensor_names = program.tensor_names
    return out
