"""``ExponentialFamily``: the base of the distributions whose density is
``exp(<t(x), theta> - F(theta) + k(x))``."""
import fastnn

from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Subclasses give their natural parameters ``theta`` (``_natural_params``),
    the log normaliser ``F`` (``_log_normalizer``) and the expected carrier
    measure ``E[k(x)]`` (``_mean_carrier_measure``); ``entropy`` is then
    ``F(theta) - <theta, grad F(theta)> - E[k(x)]`` by automatic
    differentiation, and KL between two members of one family is the Bregman
    divergence of ``F`` (as in PyTorch)."""

    @property
    def _natural_params(self):
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError

    def entropy(self):
        result = -self._mean_carrier_measure
        nparams = [p.detach().requires_grad_() for p in self._natural_params]
        lg_normal = self._log_normalizer(*nparams)
        gradients = fastnn.autograd.grad(lg_normal.sum(), nparams, create_graph=True)
        result = result + lg_normal
        for p, g in zip(nparams, gradients):
            result = result - (p * g).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
