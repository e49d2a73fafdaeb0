"""Sequential: run sub-modules one after another."""
from collections import OrderedDict

from .module import Module

__all__ = ["Sequential"]


class Sequential(Module):
    """A chain of modules, called one after another on the output of the previous one.

    ``Sequential(m0, m1, ...)`` names the layers "0", "1", ...; ``Sequential(OrderedDict(
    name=module, ...))`` keeps the given names. It supports ``len``, iteration, integer and
    slice indexing (a slice is a new Sequential sharing the modules), item assignment and
    deletion, and ``append``.

    Args:
        *args: the modules, or one OrderedDict of name to module.
        **kwargs: ``name``, passed on to :class:`Module`.

    Examples:
        >>> from collections import OrderedDict
        >>> net = M.Sequential(M.Linear(2, 3), M.ReLU())
        >>> net
        Sequential(
          (0): Linear(in_features=2, out_features=3, bias=True)
          (1): ReLU()
        )
        >>> len(net), type(net[0]).__name__
        (2, 'Linear')
        >>> net(Tensor([[1., -1.]])).shape
        (1, 3)
        >>> named = M.Sequential(OrderedDict(fc=M.Linear(2, 2), act=M.Sigmoid()))
        >>> [name for name, _ in named.named_children()]
        ['act', 'fc']
    """

    def __init__(self, *args, **kwargs):
        super().__init__(**kwargs)
        self.layer_keys = []
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            items = list(args[0].items())
        else:
            items = [(str(i), m) for i, m in enumerate(args)]
        for key, module in items:
            if not isinstance(module, Module):
                raise TypeError(f"Sequential: layer {key!r} must be a Module, got "
                                f"{type(module).__name__}")
            if not isinstance(key, str) or not key or key in self.__dict__:
                raise ValueError(f"Sequential: invalid or duplicated layer name {key!r}")
            setattr(self, key, module)
            self.layer_keys.append(key)

    def _key(self, idx):
        n = len(self.layer_keys)
        if not -n <= idx < n:
            raise IndexError(f"Sequential: index {idx} is out of range for {n} layers")
        return self.layer_keys[idx]

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(OrderedDict((k, getattr(self, k)) for k in self.layer_keys[idx]))
        return getattr(self, self._key(idx))

    def __setitem__(self, idx, module):
        if not isinstance(module, Module):
            raise TypeError(f"Sequential: can only hold Modules, got {type(module).__name__}")
        setattr(self, self._key(idx), module)

    def __delitem__(self, idx):
        keys = self.layer_keys[idx] if isinstance(idx, slice) else [self._key(idx)]
        for key in keys:
            delattr(self, key)
            self.layer_keys.remove(key)

    def __len__(self):
        return len(self.layer_keys)

    def __iter__(self):
        return iter(self.layer_values)

    @property
    def layer_values(self):
        """The layers, in order (the values matching `layer_keys`)."""
        return [getattr(self, k) for k in self.layer_keys]

    def append(self, module):
        """Adds a module at the end, named by its position.

        Args:
            module: the :class:`Module` to add.

        Returns:
            this Sequential.

        Examples:
            >>> net = M.Sequential(M.ReLU()).append(M.Sigmoid())
            >>> len(net), type(net[1]).__name__
            (2, 'Sigmoid')
        """
        key = str(len(self.layer_keys))
        while key in self.__dict__:
            key = "_" + key
        self.layer_keys.append(key)
        self[len(self.layer_keys) - 1] = module
        return self

    def forward(self, inp):
        for key in self.layer_keys:
            inp = getattr(self, key)(inp)
        return inp
