"""Exception types of fastnn."""


class ShapeError(ValueError, RuntimeError):
    """An argument has the wrong shape, rank or size for an op.

    Subclasses both ValueError and RuntimeError, so code written for PyTorch
    (which raises RuntimeError for shape mismatches) catches it too."""


class DTypeError(TypeError, RuntimeError):
    """An argument has a dtype an op does not take (float indices for an
    embedding, float class targets for a loss).

    A TypeError, and a RuntimeError as PyTorch raises for these, so code
    written for either catches it."""


class GradcheckError(RuntimeError):
    """The analytic gradient disagrees with the numerical one."""


class LinAlgError(RuntimeError):
    """A linear-algebra routine failed on its input: a singular matrix for
    ``inv``/``solve``, a matrix that is not positive definite for
    ``cholesky``, a decomposition that did not converge.

    ``torch.linalg.LinAlgError`` is a RuntimeError too, so code written for
    PyTorch catches it either way."""
