"""``LogisticNormal(loc, scale)``: a normal vector mapped onto the simplex."""
from . import constraints
from ._common import checked_instance
from .normal import Normal
from .transformed_distribution import TransformedDistribution
from .transforms import StickBreakingTransform

__all__ = ["LogisticNormal"]


class LogisticNormal(TransformedDistribution):
    """``StickBreakingTransform()(X)`` for ``X ~ Normal(loc, scale)`` (the last
    dim of the parameters is the event, one shorter than the simplex it maps
    onto); reparameterised.

    Examples
    --------
    >>> import fastnn
    >>> from fastnn.distributions import LogisticNormal
    >>> d = LogisticNormal(fastnn.zeros(3), fastnn.ones(3))
    >>> d.event_shape, d.sample().shape
    (fastnn.Size([4]), fastnn.Size([4]))
    """
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        base_dist = Normal(loc, scale, validate_args=validate_args)
        if not base_dist.batch_shape:
            base_dist = base_dist.expand([1])
        super().__init__(base_dist, StickBreakingTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = checked_instance(self, LogisticNormal, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def loc(self):
        return self.base_dist.base_dist.loc

    @property
    def scale(self):
        return self.base_dist.base_dist.scale
