"""Module: the base of every layer, with MegEngine's attribute discovery and state_dict.

A Module finds its parameters, buffers and sub-modules by looking at its own attributes (no
registration calls): a `Parameter` is a parameter, any other `Tensor` is a buffer, a `Module` is
a child, and lists / tuples / dicts of them are searched too ("blocks.0.weight"). Attributes are
visited in sorted name order (MegEngine's rule), so `parameters()` is deterministic and a
Linear yields bias before weight; the repr lists children in assignment order instead.

    class Net(M.Module):
        def __init__(self):
            super().__init__()
            self.fc = M.Linear(4, 2)
            self.blocks = [M.Linear(2, 2), M.ReLU()]

    Net().state_dict().keys()  # blocks.0.bias, blocks.0.weight, fc.bias, fc.weight
"""
import itertools
import warnings
import weakref
from collections import OrderedDict

import numpy as np

from engine.tensor import Parameter, Tensor

__all__ = ["Module", "HookHandler", "StateDictError", "StructureKeyError"]


class StateDictError(KeyError, ValueError):
    """Raised by load_state_dict for missing, unexpected or mis-shaped keys (MegEngine raises
    KeyError for key problems and ValueError for shape problems: this is both).

    Examples:
        >>> from engine.module.module import StateDictError
        >>> m = M.Linear(2, 2)
        >>> try:
        ...     m.load_state_dict({"weight": np.zeros((2, 2), "float32")})
        ... except StateDictError as e:
        ...     print(isinstance(e, KeyError), isinstance(e, ValueError), e)
        True True load_state_dict (Linear, strict=True): missing keys: ['bias']
    """

    def __str__(self):  # KeyError would print the message with quotes around it
        return str(self.args[0]) if self.args else ""


class HookHandler:
    """Returned by register_forward_pre_hook and register_forward_hook; its ``remove()``
    unregisters the hook (a second call does nothing).

    Examples:
        >>> m = M.Linear(2, 2)
        >>> calls = []
        >>> handler = m.register_forward_hook(lambda module, inputs, out: calls.append(out.shape))
        >>> _ = m(Tensor(np.zeros((1, 2), "float32")))
        >>> handler.remove()
        >>> _ = m(Tensor(np.zeros((1, 2), "float32")))
        >>> type(handler).__name__, calls
        ('HookHandler', [(1, 2)])
    """

    _ids = itertools.count()

    def __init__(self, hooks, hook):
        self.id = next(HookHandler._ids)
        hooks[self.id] = hook
        self._hooks = weakref.ref(hooks)

    def remove(self):
        hooks = self._hooks()
        if hooks is not None:
            hooks.pop(self.id, None)


class StructureKeyError(TypeError, AssertionError):
    """Raised when a dict attribute holding Tensors or Modules has a non-str key (MegEngine
    raises an AssertionError here: this is both, and a TypeError).

    Examples:
        >>> from engine.module.module import StructureKeyError
        >>> class Net(M.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.layers = {1: M.Linear(2, 2)}
        >>> try:
        ...     list(Net().named_parameters())
        ... except StructureKeyError as e:
        ...     print(isinstance(e, AssertionError), e)
        True Module: keys for Tensor and Module must be str, error key: 1 ...
    """


def _access_structure(obj, key, callback=None):
    """Follow the dotted `key` ("blocks.0.weight") from `obj` through attributes, list / tuple
    indices and dict keys; returns the object found, or callback(parent, last key, object)."""
    cur, parent, k = obj, None, None
    for k in key.split("."):
        parent = cur
        if isinstance(cur, (list, tuple)):
            k = int(k)
            cur = cur[k]
        elif isinstance(cur, dict):
            cur = cur[k]
        else:
            cur = getattr(cur, k)
    return cur if callback is None else callback(parent, k, cur)


def _expand(key, obj):
    """[(dotted key, leaf)] for the Tensors and Modules in an attribute value."""
    if isinstance(obj, (Tensor, Module)):
        return [(key, obj)]
    if not isinstance(obj, (list, tuple, dict)):
        return []
    if isinstance(obj, dict):
        items = [(k, obj[k]) for k in sorted(obj, key=str)]
    else:
        items = [(str(i), v) for i, v in enumerate(obj)]
    out = []
    for k, v in items:
        sub = _expand(k, v)
        if sub and not isinstance(k, str):
            raise StructureKeyError(f"Module: keys for Tensor and Module must be str, error key: "
                                    f"{k!r} (a dict in attribute {key!r})")
        out += [(f"{key}.{kk}", leaf) for kk, leaf in sub]
    return out


def _is_parameter(obj):
    return isinstance(obj, Parameter)


def _is_buffer(obj):
    return isinstance(obj, Tensor) and not isinstance(obj, Parameter)


def _is_state(obj):
    return isinstance(obj, Tensor)


def _is_module(obj):
    return isinstance(obj, Module)


class Module:
    """Base class of all layers; a subclass sets its parameters and sub-modules as
    attributes in ``__init__`` and defines ``forward``.

    Attributes are found by inspection (as MegEngine): a :class:`~.Parameter` is a parameter,
    another Tensor is a buffer (e.g. BatchNorm's running statistics) and a Module is a
    sub-module, also inside lists, tuples and dicts. They are visited in sorted attribute
    order. Calling the module runs the forward pre-hooks, ``forward`` and the forward hooks.

    Args:
        name: an optional name of the module (MegEngine's ``name=`` keyword).

    Examples:
        >>> class Net(M.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.fc = M.Linear(4, 2)
        ...         self.act = M.ReLU()
        ...     def forward(self, x):
        ...         return self.act(self.fc(x))
        >>> net = Net()
        >>> net
        Net(
          (fc): Linear(in_features=4, out_features=2, bias=True)
          (act): ReLU()
        )
        >>> [name for name, _ in net.named_parameters()]
        ['fc.bias', 'fc.weight']
        >>> net(F.ones((3, 4))).shape
        (3, 2)
        >>> net.eval()
        >>> net.training, net.fc.training
        (False, False)
    """

    # Normalisation layers store their (1, C, 1, 1) tensors flattened in state_dict() and accept
    # any checkpoint array of the same size (MegEngine's rule, so torch (C,) checkpoints load).
    _flat_state = False

    def __init__(self, name=None):
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise ValueError(f"Module: name must be a non-empty string, got {name!r}")
        self._modules = []  # names of module-like attributes, in assignment order (for repr)
        self.name = name
        # MegEngine's naming: _short_name is the attribute a parent holds this module under,
        # _name the dotted path from the outermost named module ("backbone.layer1.0")
        self._short_name = None
        self._name = None
        self.training = True
        self.quantize_disabled = False
        self._forward_pre_hooks = OrderedDict()
        self._forward_hooks = OrderedDict()

    def forward(self, inputs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __setstate__(self, state):
        # modules pickled before an attribute existed get its default
        state.setdefault("quantize_disabled", False)
        if "_short_name" not in state:  # MegEngine < 1.5 kept the short name in _name
            state["_short_name"] = state.get("_name")
            state["_name"] = None
        state.setdefault("_forward_pre_hooks", OrderedDict())
        state.setdefault("_forward_hooks", OrderedDict())
        self.__dict__.update(state)

    # ---------------------------------------------------------------- attributes
    def __setattr__(self, name, value):
        module_like = isinstance(value, (Module, list, tuple, dict))
        if name != "_modules":
            modules = self.__dict__.get("_modules")
            if modules is None:
                if module_like and _expand(name, value):
                    raise AttributeError(f"cannot assign {name!r} before Module.__init__() call "
                                         f"(call super().__init__() first)")
            elif module_like:
                if name not in modules:
                    modules.append(name)
            elif name in modules:
                modules.remove(name)
            if modules is not None and module_like:
                prefix = self.__dict__.get("_name") or self.__dict__.get("name")
                for key, leaf in _expand(name, value):
                    if isinstance(leaf, Module):
                        _set_module_name(leaf, prefix, key)
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        modules = self.__dict__.get("_modules")
        if modules is not None and name in modules:
            modules.remove(name)
        object.__delattr__(self, name)

    # --------------------------------------------------------------------- hooks
    def register_forward_pre_hook(self, hook):
        """Registers ``hook(module, inputs)``, called before ``forward``.

        Args:
            hook: a callable; if it returns something other than None, that (a tuple, or one
                value) replaces the inputs.

        Returns:
            a handle whose ``remove()`` unregisters the hook.

        Examples:
            >>> m = M.ReLU()
            >>> handle = m.register_forward_pre_hook(lambda module, inputs: (inputs[0] - 1,))
            >>> m(Tensor([0.5, 3.])).numpy()
            array([0., 2.], dtype=float32)
            >>> handle.remove()
            >>> m(Tensor([0.5, 3.])).numpy()
            array([0.5, 3. ], dtype=float32)
        """
        return HookHandler(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook):
        """Registers ``hook(module, inputs, outputs)``, called after ``forward``.

        Args:
            hook: a callable; if it returns something other than None, that replaces the outputs.

        Returns:
            a handle whose ``remove()`` unregisters the hook.

        Examples:
            >>> m = M.ReLU()
            >>> shapes = []
            >>> def record(module, inputs, outputs):
            ...     shapes.append(outputs.shape)
            >>> handle = m.register_forward_hook(record)
            >>> _ = m(F.ones((2, 3)))
            >>> shapes
            [(2, 3)]
            >>> handle.remove()
        """
        return HookHandler(self._forward_hooks, hook)

    def __call__(self, *inputs, **kwargs):
        for hook in tuple(self._forward_pre_hooks.values()):
            new = hook(self, inputs)
            if new is not None:
                inputs = new if isinstance(new, tuple) else (new,)
        outputs = self.forward(*inputs, **kwargs)
        for hook in tuple(self._forward_hooks.values()):
            new = hook(self, inputs, outputs)
            if new is not None:
                outputs = new
        return outputs

    # ----------------------------------------------------------------- traversal
    def _flatten(self, *, recursive=True, with_key=False, with_parent=False, prefix=None,
                 predicate=lambda _: True, seen=None):
        """Leaves (Tensors, Modules) under this module in sorted attribute order, each once."""
        if seen is None:
            seen = {id(self)}
        dot = "" if prefix is None else prefix + "."
        attrs = vars(self)
        for key in sorted(attrs):
            for ekey, leaf in _expand(key, attrs[key]):
                if id(leaf) in seen:
                    continue
                seen.add(id(leaf))
                if predicate(leaf):
                    if with_key and with_parent:
                        yield dot + ekey, leaf, self
                    elif with_key:
                        yield dot + ekey, leaf
                    elif with_parent:
                        yield leaf, self
                    else:
                        yield leaf
                if recursive and isinstance(leaf, Module):
                    yield from leaf._flatten(recursive=True, with_key=with_key,
                                             with_parent=with_parent, prefix=dot + ekey,
                                             predicate=predicate, seen=seen)

    def parameters(self, recursive=True, **kwargs):
        """The Parameters of this module (and of its sub-modules when recursive), each once.

        Args:
            recursive: whether to include the parameters of sub-modules.
            **kwargs: ``requires_grad`` is accepted for MegEngine compatibility and ignored.

        Returns:
            a generator of Parameters, in sorted attribute order.

        Examples:
            >>> net = M.Sequential(M.Linear(2, 3), M.BatchNorm1d(3))
            >>> [p.shape for p in net.parameters()]
            [(3,), (3, 2), (1, 3, 1, 1), (1, 3, 1, 1)]
        """
        kwargs.pop("requires_grad", None)  # accepted for compatibility; tensors have no flag
        yield from self._flatten(predicate=_is_parameter, recursive=recursive, **kwargs)

    def named_parameters(self, prefix=None, recursive=True, **kwargs):
        """(dotted name, Parameter) pairs of this module and, when recursive, its
        sub-modules.

        Args:
            prefix: a prefix for every name (joined with a dot).
            recursive: whether to include the parameters of sub-modules.
            **kwargs: ``requires_grad`` is accepted for MegEngine compatibility and ignored.

        Returns:
            a generator of (name, Parameter) pairs.

        Examples:
            >>> net = M.Sequential(M.Linear(2, 3), M.BatchNorm1d(3))
            >>> [name for name, _ in net.named_parameters()]
            ['0.bias', '0.weight', '1.bias', '1.weight']
            >>> [name for name, _ in net[0].named_parameters(prefix="fc")]
            ['fc.bias', 'fc.weight']
        """
        kwargs.pop("requires_grad", None)
        yield from self._flatten(with_key=True, prefix=prefix, predicate=_is_parameter,
                                 recursive=recursive, **kwargs)

    def buffers(self, recursive=True, **kwargs):
        """The Tensors of this module that are not Parameters (e.g. BatchNorm's running
        statistics).

        Args:
            recursive: whether to include the buffers of sub-modules.

        Returns:
            a generator of Tensors.

        Examples:
            >>> net = M.Sequential(M.Linear(2, 3), M.BatchNorm1d(3))
            >>> [b.shape for b in net.buffers()]
            [(1, 3, 1, 1), (1, 3, 1, 1)]
        """
        yield from self._flatten(predicate=_is_buffer, recursive=recursive, **kwargs)

    def named_buffers(self, prefix=None, recursive=True, **kwargs):
        """(dotted name, Tensor) pairs of the buffers (Tensors that are not
        Parameters).

        Args:
            prefix: a prefix for every name (joined with a dot).
            recursive: whether to include the buffers of sub-modules.

        Returns:
            a generator of (name, Tensor) pairs.

        Examples:
            >>> net = M.Sequential(M.Linear(2, 3), M.BatchNorm1d(3))
            >>> [name for name, _ in net.named_buffers()]
            ['1.running_mean', '1.running_var']
        """
        yield from self._flatten(with_key=True, prefix=prefix, predicate=_is_buffer,
                                 recursive=recursive, **kwargs)

    def tensors(self, recursive=True, **kwargs):
        """Parameters and buffers together.

        Args:
            recursive: whether to include the tensors of sub-modules.

        Returns:
            a generator of Tensors.

        Examples:
            >>> net = M.Sequential(M.Linear(2, 3), M.BatchNorm1d(3))
            >>> len(list(net.tensors()))
            6
        """
        yield from self._flatten(predicate=_is_state, recursive=recursive, **kwargs)

    def named_tensors(self, prefix=None, recursive=True, **kwargs):
        """(dotted name, Tensor) pairs of the parameters and buffers.

        Args:
            prefix: a prefix for every name (joined with a dot).
            recursive: whether to include the tensors of sub-modules.

        Returns:
            a generator of (name, Tensor) pairs.

        Examples:
            >>> net = M.Sequential(M.Linear(2, 3), M.BatchNorm1d(3))
            >>> [name for name, _ in net.named_tensors()][:3]
            ['0.bias', '0.weight', '1.bias']
        """
        yield from self._flatten(with_key=True, prefix=prefix, predicate=_is_state,
                                 recursive=recursive, **kwargs)

    def children(self, **kwargs):
        """The direct sub-modules.

        Returns:
            a generator of Modules.

        Examples:
            >>> net = M.Sequential(M.Linear(2, 3), M.BatchNorm1d(3))
            >>> [type(m).__name__ for m in net.children()]
            ['Linear', 'BatchNorm1d']
        """
        yield from self._flatten(predicate=_is_module, recursive=False, **kwargs)

    def named_children(self, **kwargs):
        """(name, module) pairs of the direct sub-modules.

        Returns:
            a generator of (name, Module) pairs.

        Examples:
            >>> net = M.Sequential(M.Linear(2, 3), M.BatchNorm1d(3))
            >>> [name for name, _ in net.named_children()]
            ['0', '1']
        """
        yield from self._flatten(with_key=True, predicate=_is_module, recursive=False, **kwargs)

    def modules(self, **kwargs):
        """This module and every sub-module, recursively.

        Returns:
            a generator of Modules, this module first.

        Examples:
            >>> net = M.Sequential(M.Sequential(M.ReLU()), M.Sigmoid())
            >>> [type(m).__name__ for m in net.modules()]
            ['Sequential', 'Sequential', 'ReLU', 'Sigmoid']
        """
        yield (self, None) if kwargs.get("with_parent") else self
        yield from self._flatten(predicate=_is_module, **kwargs)

    def named_modules(self, prefix=None, **kwargs):
        """(dotted name, module) pairs of this module and every sub-module; this
        module comes first, named "" (or ``prefix``).

        Args:
            prefix: a prefix for every name (joined with a dot).

        Returns:
            a generator of (name, Module) pairs.

        Examples:
            >>> net = M.Sequential(M.Sequential(M.ReLU()), M.Sigmoid())
            >>> [name for name, _ in net.named_modules()]
            ['', '0', '0.0', '1']
        """
        name = "" if prefix is None else prefix
        yield (name, self, None) if kwargs.get("with_parent") else (name, self)
        yield from self._flatten(with_key=True, prefix=prefix, predicate=_is_module, **kwargs)

    def apply(self, fn):
        """Calls ``fn(module)`` on this module and every sub-module.

        Args:
            fn: a callable taking a Module.

        Examples:
            >>> net = M.Sequential(M.Linear(2, 2), M.Linear(2, 1))
            >>> net.apply(lambda m: M.init.zeros_(m.bias) if isinstance(m, M.Linear) else None)
            >>> [float(abs(m.bias).sum()) for m in net]
            [0.0, 0.0]
        """
        for m in self.modules():
            fn(m)

    # -------------------------------------------------------------------- modes
    def train(self, mode=True, recursive=True):
        """Sets training mode (used by BatchNorm and Dropout) on this module and, when
        recursive, on its sub-modules.

        Args:
            mode: True for training mode, False for evaluation mode.
            recursive: whether to set the mode of the sub-modules too.

        Examples:
            >>> net = M.Sequential(M.Dropout(0.5))
            >>> net.train(False)
            >>> net.training, net[0].training
            (False, False)
            >>> net.train()
            >>> net[0].training
            True
        """
        if not recursive:
            self.training = bool(mode)
            return
        for m in self.modules():
            m.training = bool(mode)

    def eval(self):
        """Sets evaluation mode on this module and its sub-modules: ``train(False)``.

        Examples:
            >>> net = M.Sequential(M.BatchNorm1d(2))
            >>> net.eval()
            >>> net[0].training
            False
        """
        self.train(False)

    def disable_quantize(self, value=True):
        """Mark this module and every sub-module to be skipped by quantization passes.

        Args:
            value: the `quantize_disabled` flag to set. Default: True

        Returns:
            This module (so `head = M.Linear(4, 2).disable_quantize()` reads in one line).

        Examples:
            >>> import engine.module as M
            >>> net = M.Sequential(M.Linear(4, 2), M.ReLU()).disable_quantize()
            >>> [m.quantize_disabled for m in net.modules()]
            [True, True, True]
        """
        for m in self.modules():
            m.quantize_disabled = value
        return self

    def replace_param(self, params, start_pos, seen=None):
        """Replace this module's parameters by those of `params` (MegEngine's deprecated
        ParamPack helper).

        Parameters are numbered depth first from `start_pos` in sorted attribute order. As in
        MegEngine, only Parameters and Modules held directly by an attribute are visited (not
        those inside lists or dicts), and each object is counted once.

        Args:
            params: dict position -> Parameter; positions it lacks keep their parameter.
            start_pos: the position of this module's first parameter.
            seen: ids of the objects already visited (None: a fresh set).

        Returns:
            How many positions this module and its sub-modules cover.

        Examples:
            >>> import numpy as np
            >>> import engine as mge
            >>> import engine.module as M
            >>> fc = M.Linear(3, 2)
            >>> new_bias = mge.Parameter(np.ones(2, "float32"))
            >>> fc.replace_param({0: new_bias}, 0)  # position 0 is "bias", 1 is "weight"
            2
            >>> fc.bias is new_bias
            True
        """
        offset = 0
        if seen is None:
            warnings.warn("Module.replace_param is deprecated (since MegEngine 1.0)",
                          DeprecationWarning, stacklevel=2)
            seen = {id(self)}
        attrs = vars(self)
        for key in sorted(attrs):
            value = attrs[key]
            if id(value) in seen:
                continue
            seen.add(id(value))
            if isinstance(value, Parameter):
                new = params.get(start_pos + offset)
                if new is not None:
                    if tuple(new.shape) != tuple(value.shape):
                        raise ValueError(f"replace_param ({type(self).__name__}.{key}): the "
                                         f"parameter at position {start_pos + offset} has shape "
                                         f"{tuple(new.shape)}, expected {tuple(value.shape)}")
                    object.__setattr__(self, key, new)
                offset += 1
            elif isinstance(value, Module):
                offset += value.replace_param(params, start_pos + offset, seen)
        return offset

    def zero_grad(self):
        """Sets the existing gradient of every parameter to zeros.

        MegEngine's deprecated API; prefer ``optimizer.clear_grad()``, which drops the gradients.

        Examples:
            >>> m = M.Linear(2, 1)
            >>> gm = mge.autodiff.GradManager().attach(m.parameters())
            >>> with gm:
            ...     gm.backward(m(F.ones((1, 2))).sum())
            >>> m.zero_grad()
            >>> m.bias.grad.numpy()
            array([0.], dtype=float32)
        """
        for p in self.parameters():
            if p.grad is not None:
                p.grad = Tensor(np.zeros(p.grad.shape, p.grad.dtype), device=p.grad.device)

    # --------------------------------------------------------------- state dict
    def _local_states(self, prefix=""):
        """[(key, tensor, owner module)] for every parameter and buffer, depth first."""
        out = [(prefix + k, v, self)
               for k, v in self._flatten(recursive=False, with_key=True, predicate=_is_state)]
        for k, sub in self._flatten(recursive=False, with_key=True, predicate=_is_module):
            out += sub._local_states(prefix + k + ".")
        return out

    def state_dict(self, rst=None, prefix="", keep_var=False):
        """The values of every parameter and buffer, by dotted name.

        Normalisation layers' (1, C, 1, 1) tensors are stored flattened to (C,), as MegEngine does.

        Args:
            rst: an OrderedDict to add the entries to; None makes a new one.
            prefix: a prefix for every key.
            keep_var: if True the values are the Tensors themselves, else numpy copies.

        Returns:
            an OrderedDict of key to numpy array (or Tensor).

        Examples:
            >>> net = M.Sequential(M.Linear(2, 3), M.BatchNorm1d(3))
            >>> state = net.state_dict()
            >>> list(state)
            ['0.bias', '0.weight', '1.bias', '1.running_mean', '1.running_var', '1.weight']
            >>> state["0.weight"].shape, state["1.running_mean"].shape
            ((3, 2), (3,))
        """
        rst = OrderedDict() if rst is None else rst
        for key, var, owner in self._local_states(prefix):
            if key in rst:
                raise ValueError(f"state_dict: duplicated key {key!r}")
            if owner._flat_state:
                var = var.reshape(-1) if keep_var else var.numpy().reshape(-1)
            elif not keep_var:
                var = var.numpy()
            rst[key] = var
        return rst

    def _state_dict(self, rst=None, prefix="", keep_var=False):
        """OrderedDict (owner module type, key) -> numpy copy (keep_var: the Tensor) of every
        parameter and buffer, unflattened (MegEngine's internal form behind state_dict)."""
        rst = OrderedDict() if rst is None else rst
        for key, var, owner in self._local_states(prefix):
            rst[(type(owner), key)] = var if keep_var else var.numpy()
        return rst

    def _load_state_dict_with_closure(self, closure):
        """Load every parameter and buffer from `closure(key, tensor) -> array or None` (None
        skips the key); returns the sets (loaded keys, skipped keys). A value of another shape is
        a ValueError (normalisation layers accept any value of the same size)."""
        if not callable(closure):
            raise TypeError(f"_load_state_dict_with_closure: closure must be callable, got "
                            f"{type(closure).__name__}")
        loaded, skipped = set(), set()
        for key, var, owner in self._local_states():
            value = closure(key, var)
            if value is None:
                skipped.add(key)
                continue
            value = np.asarray(value.numpy() if isinstance(value, Tensor) else value)
            if value.shape != tuple(var.shape):
                if not (owner._flat_state and value.size == var.size):
                    raise ValueError(f"load_state_dict: {key}: expected shape "
                                     f"{tuple(var.shape)}, got {value.shape}")
                value = value.reshape(var.shape)
            var._reset(type(var)(value, dtype=value.dtype, device=var.device))
            loaded.add(key)
        return loaded, skipped

    def load_state_dict(self, state_dict, strict=True):
        """Copies values into this module's parameters and buffers (which keep
        their identity, so optimizers and GradManagers that hold them stay valid).

        A flattened (C,) value loads into a normalisation layer's (1, C, 1, 1) tensor.

        Args:
            state_dict: a dict of key to numpy array or Tensor (None skips the key), or a callable
                ``closure(key, tensor) -> array or None``.
            strict: if True missing and unexpected keys are an error, else a warning. Mis-shaped
                values are always an error. Every bad key is named in one StateDictError (both a
                KeyError and a ValueError), and nothing is loaded when there is one.

        Examples:
            >>> a, b = M.Linear(2, 1), M.Linear(2, 1)
            >>> b.load_state_dict(a.state_dict())
            >>> bool((a.weight.numpy() == b.weight.numpy()).all())
            True
            >>> zero = np.zeros(1, "float32")
            >>> b.load_state_dict({"weight": np.ones((2, 2), "float32"), "bias": zero})
            Traceback (most recent call last):
            ...
            engine.module.module.StateDictError: load_state_dict (Linear, strict=True): ...
            >>> b.load_state_dict({"weight": np.ones((1, 2), "float32"), "bias": zero})
            >>> b.weight.numpy(), b.bias.numpy()
            (array([[1., 1.]], dtype=float32), array([0.], dtype=float32))
        """
        if isinstance(state_dict, dict):
            given = state_dict
            unexpected = set(given)

            def closure(key, _):
                return given.get(key)
        elif callable(state_dict):
            closure, unexpected = state_dict, set()
        else:
            raise TypeError(f"load_state_dict: expected a dict or a callable, got "
                            f"{type(state_dict).__name__}")
        missing, misshaped, updates = [], [], []
        for key, var, owner in self._local_states():
            unexpected.discard(key)
            value = closure(key, var)
            if value is None:
                missing.append(key)
                continue
            if isinstance(value, Tensor):
                value = value.numpy()
            value = np.asarray(value)
            if value.shape != var.shape:
                if owner._flat_state and value.size == var.size:
                    value = value.reshape(var.shape)
                else:
                    misshaped.append(f"{key}: expected {tuple(var.shape)}, got {value.shape}")
                    continue
            updates.append((var, value))
        problems = []
        if misshaped:
            problems.append("mis-shaped keys: " + "; ".join(misshaped))
        if strict and missing:
            problems.append(f"missing keys: {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys: {sorted(unexpected)}")
        if problems:
            raise StateDictError(f"load_state_dict ({type(self).__name__}, strict={strict}): "
                                 + "; ".join(problems))
        if missing or unexpected:
            warnings.warn(f"load_state_dict (strict=False): missing keys {missing}, unexpected "
                          f"keys {sorted(unexpected)}", stacklevel=2)
        for var, value in updates:
            var._reset(type(var)(value, dtype=value.dtype, device=var.device))

    # --------------------------------------------------------------------- repr
    def _module_info_string(self):
        """One-line description of the layer's configuration (MegEngine's name)."""
        return self.extra_repr()

    def extra_repr(self):
        """PyTorch's name for _module_info_string; override either."""
        return ""

    def __repr__(self):
        extra = self._module_info_string()
        extra_lines = extra.split("\n") if extra else []
        child_lines = []
        for name in self._modules:
            value = self.__dict__.get(name)
            for key, leaf in _expand(name, value):
                if isinstance(leaf, Module):
                    child_lines.append(f"({key}): " + _indent(repr(leaf), 2))
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{type(self).__name__}({body})"


def _set_module_name(module, prefix, key):
    """Name `module` `key` under `prefix` and its sub-modules below it, unless it already has
    another short name (a module shared under a second attribute keeps its first name, as in
    MegEngine)."""
    short = module.__dict__.get("_short_name")
    if short and short != key:
        return
    full = f"{prefix}.{key}" if prefix else key
    object.__setattr__(module, "_short_name", key)
    object.__setattr__(module, "_name", full)
    for k, child in module._flatten(recursive=False, with_key=True, predicate=_is_module):
        _set_module_name(child, full, k)


def _indent(text, spaces):
    first, *rest = text.split("\n")
    return "\n".join([first] + [" " * spaces + line for line in rest])
