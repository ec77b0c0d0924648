"""Exception types of fastnn."""


class ShapeError(ValueError, RuntimeError):
    """An argument has the wrong shape, rank or size for an op.

    Subclasses both ValueError and RuntimeError, so code written for PyTorch
    (which raises RuntimeError for shape mismatches) catches it too."""


class GradcheckError(RuntimeError):
    """The analytic gradient disagrees with the numerical one."""
