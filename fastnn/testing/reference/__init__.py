"""The NumPy oracle: naive, obviously correct implementations of every op.

Split by family (``core``, ``conv``, ``layers``, ``activations``, ``norms``,
``pooling``, ``optim``) and flattened
here, so tests write ``from fastnn.testing import reference as R; R.conv2d``.
Python loops over pixels are allowed here and nowhere else.
"""
from .core import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .activations import *  # noqa: F401,F403
from .norms import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .optim import *  # noqa: F401,F403
from .resample import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
