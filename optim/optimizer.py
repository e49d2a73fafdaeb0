"""Optimizer: parameter groups, per-parameter state, state_dict, step / clear_grad.

    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    opt = optim.SGD([{"params": backbone.parameters(), "lr": 0.01},
                     {"params": head.parameters()}], lr=0.1, momentum=0.9)
    ...
    gm.backward(loss)
    opt.step().clear_grad()

Each `param_groups` entry is a dict with "params" (a list of Parameters) and the options
(lr, momentum, ...), which schedulers and users may change between steps. Updates run on the raw
arrays outside autograd (nothing is recorded even while a GradManager records) and in place: the
Parameter objects keep their identity (see _inplace.py for when a private copy is made first).
"""
import copy
from collections.abc import Iterable

import numpy as np

from engine.tensor import Parameter, Tensor

from ._inplace import writable_array

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """The marker of an optimizer option that has no default: a parameter
    group must set it (``optimizer.required``).
    """
    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class of the optimizers: parameter groups, per-parameter state,
    ``step`` / ``clear_grad`` and ``state_dict``.

    Each ``param_groups`` entry is a dict with "params" (a list of Parameters) and the
    options (lr, momentum, ...), which schedulers and users may change between steps.
    Updates run on the raw arrays outside autograd and in place: the Parameter objects keep
    their identity. A subclass defines ``_create_state(param_group)`` and
    ``_updates(param_group)``.

    Args:
        params: an iterable of Parameters, or of dicts ``{"params": [...], option: value}``
            (one parameter group each); a single Parameter or dict is accepted too. Sets are
            refused: their order changes between runs.
        defaults: the default options, used where a group does not set them
            (:data:`required` marks one that every group must set).

    Examples:
        >>> backbone, head = M.Linear(4, 4), M.Linear(4, 2)
        >>> opt = mge.optimizer.SGD([{"params": backbone.parameters(), "lr": 0.01},
        ...                          {"params": head.parameters()}], lr=0.1, momentum=0.9)
        >>> [group["lr"] for group in opt.param_groups]
        [0.01, 0.1]
        >>> [len(group["params"]) for group in opt.param_groups]
        [2, 2]
        >>> opt
        SGD (
        Parameter Group 0
            lr: 0.01
            momentum: 0.9
            weight_decay: 0.0
        Parameter Group 1
            lr: 0.1
            momentum: 0.9
            weight_decay: 0.0
        )
    """

    def __init__(self, params, defaults):
        self._state = {}
        self._defaults = dict(defaults)
        self.param_groups = []
        name = type(self).__name__
        if isinstance(params, (Tensor, dict)):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(f"{name}: parameters must be in an ordered collection (list, tuple, "
                            f"generator), not a set: its order changes between runs")
        elif not isinstance(params, Iterable):
            raise TypeError(f"{name}: params must be a Parameter, a dict or an iterable of them, "
                            f"got {type(params).__name__}")
        groups = list(params)
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list")
        if any(isinstance(g, dict) for g in groups) and not all(isinstance(g, dict)
                                                                for g in groups):
            raise TypeError(f"{name}: params must be all Parameters or all param-group dicts")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ---------------------------------------------------------------- groups
    def add_param_group(self, param_group):
        """Adds a parameter group; options it does not set take the defaults.

        Args:
            param_group: a dict ``{"params": [...], option: value}``; its parameters must not be
                in another group already.

        Examples:
            >>> w = mge.Parameter([1., 2.])
            >>> opt = mge.optimizer.SGD([w], lr=0.1, momentum=0.9)
            >>> opt.add_param_group({"params": [mge.Parameter([0.])], "lr": 0.5})
            >>> [(group["lr"], group["momentum"]) for group in opt.param_groups]
            [(0.1, 0.9), (0.5, 0.9)]
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}.add_param_group: expected a dict, got "
                            f"{type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}.add_param_group: the group has no 'params' entry")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, set):
            raise TypeError(f"{name}: parameters must be in an ordered collection (list, tuple, "
                            f"generator), not a set: its order changes between runs")
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in group["params"]:
            if not isinstance(p, Parameter):
                raise TypeError(f"{name}: can only optimize Parameters, got "
                                f"{type(p).__name__}" + (f" of shape {tuple(p.shape)}"
                                                         if isinstance(p, Tensor) else ""))
        for key, default in self._defaults.items():
            if default is required and key not in group:
                raise ValueError(f"{name}: parameter group does not set the required option "
                                 f"{key!r}")
            group.setdefault(key, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        ids = [id(p) for p in group["params"]]
        if len(set(ids)) != len(ids) or seen.intersection(ids):
            raise ValueError(f"{name}: some parameters appear more than once (in one group or "
                             f"in several groups)")
        self.param_groups.append(group)
        self._create_state(group)

    def _add_state(self, param, state_name, initializer=None, dtype="float32"):
        """Create state `state_name` of `param`: zeros of param's shape unless `initializer`
        (an array or scalar), stored as `dtype` (float32: optimizer states stay float32 for
        float16 parameters)."""
        if initializer is None:
            initializer = np.zeros(param.shape, dtype=np.float32)
        states = self._state.setdefault(param, {})
        if state_name in states:  # loaded from a state_dict, or created before
            return
        states[state_name] = Tensor(initializer, dtype=dtype, device=param.device)

    def _get_params(self):
        """Every optimized Parameter, in group order."""
        return [p for group in self.param_groups for p in group["params"]]

    def _create_state(self, param_group):
        raise NotImplementedError

    def _updates(self, param_group):
        raise NotImplementedError

    # ------------------------------------------------------------------ steps
    def step(self):
        """Updates every parameter that has a gradient.

        Returns:
            this optimizer, so that ``opt.step().clear_grad()`` reads as one statement.

        Examples:
            >>> w = mge.Parameter([1., 2.])
            >>> opt = mge.optimizer.SGD([w], lr=0.5)
            >>> w.grad = Tensor([1., -1.])
            >>> opt.step() is opt
            True
            >>> w.numpy()
            array([0.5, 2.5], dtype=float32)
        """
        for group in self.param_groups:
            self._updates(group)
        return self

    def clear_grad(self):
        """Drops the gradients (``param.grad = None``), so the next backward
        starts afresh.

        Examples:
            >>> w = mge.Parameter([1., 2.])
            >>> opt = mge.optimizer.SGD([w], lr=0.5)
            >>> w.grad = Tensor([1., -1.])
            >>> opt.clear_grad()
            >>> w.grad is None
            True
        """
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def zero_grad(self):
        """Sets the existing gradients to zeros (MegEngine's deprecated API;
        prefer :meth:`clear_grad`).

        Examples:
            >>> w = mge.Parameter([1., 2.])
            >>> opt = mge.optimizer.SGD([w], lr=0.5)
            >>> w.grad = Tensor([1., -1.])
            >>> opt.zero_grad()
            >>> w.grad.numpy()
            array([0., 0.], dtype=float32)
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.grad = Tensor(np.zeros(p.grad.shape, p.grad.dtype), device=p.grad.device)

    def backward(self, loss):
        """Not supported, as in MegEngine: gradients come from autodiff.GradManager."""
        raise NotImplementedError("Optimizer.backward: use autodiff.GradManager instead "
                                  "(gm.backward(loss))")

    def bcast_param(self):
        """Broadcast every parameter from rank 0 so all workers start from the same values
        (in place; outside a distributed job it leaves them as they are). Returns None.
        """
        from engine.distributed import bcast_list_

        for group in self.param_groups:
            bcast_list_(group["params"])

    def _grad_array(self, param):
        """The raw gradient of `param` (None when it has none), checked against its shape."""
        g = param.grad
        if g is None:
            return None
        if tuple(g.shape) != tuple(param.shape):
            raise ValueError(f"{type(self).__name__}.step: gradient of shape {tuple(g.shape)} "
                             f"does not match its parameter of shape {tuple(param.shape)}")
        if g._storage.device is not param._storage.device:
            raise ValueError(f"{type(self).__name__}.step: gradient on {g.device} but its "
                             f"parameter is on {param.device}")
        return g._storage.array

    @staticmethod
    def _writable(t):
        return writable_array(t)

    def _stepped_params(self, param_group):
        """(param, gradient array, state dict, step counter) for each parameter of the group
        that has a gradient, its "step" state advanced by one first (Adam, Adagrad, Adadelta,
        LAMB count steps per parameter, as MegEngine's do)."""
        for p in param_group["params"]:
            grad = self._grad_array(p)
            if grad is None:
                continue
            states = self._state[p]
            step = self._writable(states["step"])
            step += 1
            yield p, grad, states, step

    # ------------------------------------------------------------- state dict
    def state_dict(self, keep_var=False):
        """The options and per-parameter state of this optimizer.

        Parameters are numbered in group order.

        Args:
            keep_var: if True the state values are the state Tensors themselves, else numpy
                copies.

        Returns:
            a dict ``{"param_groups": [options and "params": [indices]], "state": {index:
            {name: array}}}``.

        Examples:
            >>> w = mge.Parameter([1., 2.])
            >>> opt = mge.optimizer.SGD([w], lr=0.1, momentum=0.9)
            >>> state = opt.state_dict()
            >>> state["param_groups"]
            [{'lr': 0.1, 'momentum': 0.9, 'weight_decay': 0.0, 'params': [0]}]
            >>> state["state"]
            {0: {'momentum_buffer': array([0., 0.], dtype=float32)}}
        """
        index = {}
        for group in self.param_groups:
            for p in group["params"]:
                index.setdefault(id(p), len(index))
        by_id = {id(p): p for g in self.param_groups for p in g["params"]}
        state = {}
        for pid, i in index.items():
            st = self._state.get(by_id[pid])
            if st is not None:
                state[i] = {k: v if keep_var else v.numpy() for k, v in st.items()}
        groups = []
        for group in self.param_groups:
            saved = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            saved["params"] = [index[id(p)] for p in group["params"]]
            groups.append(saved)
        return {"param_groups": groups, "state": state}

    def load_state_dict(self, state):
        """Restores the options and state saved by :meth:`state_dict` of an
        optimizer over parameters of the same shapes, in the same group structure.

        Args:
            state: a dict returned by :meth:`state_dict`.

        Examples:
            >>> w = mge.Parameter([1., 2.])
            >>> opt = mge.optimizer.SGD([w], lr=0.1, momentum=0.9)
            >>> w.grad = Tensor([1., 1.])
            >>> opt.step().clear_grad()
            >>> w2 = mge.Parameter([1., 2.])
            >>> opt2 = mge.optimizer.SGD([w2], lr=0.5, momentum=0.9)
            >>> opt2.load_state_dict(opt.state_dict())
            >>> opt2.param_groups[0]["lr"], opt2.state_dict()["state"][0]["momentum_buffer"]
            (0.1, array([1., 1.], dtype=float32))
        """
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, dict) or set(state) != {"param_groups", "state"}:
            raise ValueError(f"{name}: expected a dict with keys 'param_groups' and 'state'")
        saved_groups = state["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}: the state has {len(saved_groups)} parameter groups, this "
                             f"optimizer has {len(self.param_groups)}")
        new_state = {}
        for gi, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(f"{name}: group {gi} has {len(saved['params'])} parameters in "
                                 f"the state but {len(group['params'])} here")
            # "initial_lr" comes with an LR scheduler, which may be created after the load
            missing = set(group) - set(saved) - {"initial_lr"}
            if missing:
                raise ValueError(f"{name}: group {gi} of the state lacks the options "
                                 f"{sorted(missing)} (it has {sorted(saved)}): was it saved by "
                                 f"another kind of optimizer?")
            for p, idx in zip(group["params"], saved["params"]):
                for k, v in state["state"].get(idx, {}).items():
                    arr = v.numpy() if isinstance(v, Tensor) else np.asarray(v)
                    if arr.ndim and arr.shape != tuple(p.shape):
                        raise ValueError(f"{name}: state {k!r} of parameter {idx} has shape "
                                         f"{arr.shape}, the parameter has {tuple(p.shape)}")
                    # a private copy: the optimizer writes its state in place
                    new_state.setdefault(p, {})[k] = Tensor(arr.copy(), dtype=np.float32,
                                                            device=p.device)
        for group, saved in zip(self.param_groups, saved_groups):
            for k, v in saved.items():
                if k != "params":
                    group[k] = copy.deepcopy(v)
        self._state = new_state
        for group in self.param_groups:
            self._create_state(group)  # parameters the saved state had none for

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])
