"""``fastnn.device``: PyTorch's device objects, for programs that name one.

fastnn computes on the CPU only: ``device("cpu")`` (and ``"cpu:0"``) is
accepted everywhere PyTorch takes a device, and any other device type is a
clear error rather than a silent fallback.
"""

__all__ = ["device", "cpu"]


class device:
    """A device: always the CPU in fastnn.

    Examples
    --------
    >>> import fastnn
    >>> fastnn.device("cpu")
    device(type='cpu')
    """

    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        if not isinstance(type, str):
            raise TypeError(f"device() expects a string like 'cpu', got {type!r}")
        name, _, idx = type.partition(":")
        if idx:
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        if name != "cpu":
            raise RuntimeError(f"fastnn runs on the CPU only; device '{type}' is not available "
                               "(use 'cpu')")
        self.type = "cpu"
        self.index = index

    def __repr__(self):
        return "device(type='cpu')" if self.index is None else \
            f"device(type='cpu', index={self.index})"

    def __str__(self):
        return "cpu" if self.index is None else f"cpu:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except (RuntimeError, TypeError):
                return False
        return isinstance(other, device) and other.type == self.type

    def __hash__(self):
        return hash("cpu")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


cpu = device("cpu")
