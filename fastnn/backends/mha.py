"""``torch.backends.mha``: the switch of the inference fast path of
``TransformerEncoder`` (padded batches run as nested tensors in PyTorch,
so the output is zero at padded positions, before the final norm)."""
_fastpath_enabled = True


def get_fastpath_enabled():
    """Whether the transformer inference fast path may be taken (default True)."""
    return _fastpath_enabled


def set_fastpath_enabled(value):
    """Allows (True) or forbids (False) the transformer inference fast path."""
    global _fastpath_enabled
    _fastpath_enabled = bool(value)
