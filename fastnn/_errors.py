"""Exception types of fastnn."""


class ShapeError(ValueError, RuntimeError):
    """An argument has the wrong shape, rank or size for an op.

    Subclasses both ValueError and RuntimeError, so code written for PyTorch
    (which raises RuntimeError for shape mismatches) catches it too."""


class DTypeError(TypeError, RuntimeError):
    """An argument has a dtype an op does not take (float indices for an
    embedding, float class targets for a loss, an integer matrix for
    ``linalg.inv``).

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


class OutOfRangeError(IndexError, RuntimeError):
    """An index out of bounds, or a reduction over an empty dim.

    PyTorch raises IndexError for some of these (``index_select``, ``take``,
    ``max(dim=...)`` of an empty dim) and RuntimeError for others
    (``gather``, ``scatter``, ``amax()`` of an empty tensor); this subclasses
    both, so code written for either catches it."""


class ValueRangeError(ValueError, RuntimeError):
    """A tensor holds a value the op cannot take (a class index past
    ``num_classes`` for ``one_hot``). PyTorch raises RuntimeError; this is a
    ValueError too."""


class DTypeNotImplementedError(NotImplementedError, TypeError):
    """An op has no kernel for a dtype (``bitwise_and`` of floats, ``~`` of a
    float tensor). PyTorch raises NotImplementedError (a RuntimeError) for
    the one and TypeError for the other; this is both."""
