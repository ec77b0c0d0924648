"""``torch.backends.openmp``: whether the compiled core was built with OpenMP."""


def is_available():
    from .._core import openmp_enabled
    return bool(openmp_enabled())
