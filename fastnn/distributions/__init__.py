"""``fastnn.distributions``: PyTorch's ``torch.distributions`` for fastnn.

Parameterised probability distributions with sampling (from fastnn's global
generator, so ``fastnn.manual_seed`` makes draws reproducible), ``log_prob``,
``entropy``, moments, ``cdf``/``icdf`` where defined, reparameterised
``rsample`` where it exists, and ``kl_divergence`` between pairs.  Everything
is written in Tensor operations: gradients flow to the parameters.

Examples
--------
>>> import fastnn
>>> from fastnn.distributions import Categorical, Normal, kl_divergence
>>> _ = fastnn.manual_seed(0)
>>> Categorical(logits=fastnn.zeros(4, 3)).sample((5,)).shape
fastnn.Size([5, 4])
>>> kl_divergence(Normal(0.0, 1.0), Normal(1.0, 1.0))
tensor(0.5000)
"""
from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .exponential import Exponential
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .uniform import Uniform

__all__ = ["Bernoulli", "Categorical", "Distribution", "Exponential", "Independent", "Laplace",
           "LowRankMultivariateNormal", "MultivariateNormal", "Normal", "OneHotCategorical",
           "Uniform", "constraints", "kl_divergence", "register_kl"]
