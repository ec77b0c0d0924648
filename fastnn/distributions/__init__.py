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

# Gamma and the families built on it, transforms, mixtures and relaxations
from . import transforms  # noqa: E402
from .beta import Beta  # noqa: E402
from .binomial import Binomial  # noqa: E402
from .cauchy import Cauchy  # noqa: E402
from .constraint_registry import biject_to, transform_to  # noqa: E402
from .dirichlet import Dirichlet  # noqa: E402
from .exp_family import ExponentialFamily  # noqa: E402
from .gamma import Chi2, Gamma  # noqa: E402
from .geometric import Geometric  # noqa: E402
from .gumbel import Gumbel  # noqa: E402
from .half_cauchy import HalfCauchy  # noqa: E402
from .half_normal import HalfNormal  # noqa: E402
from .log_normal import LogNormal  # noqa: E402
from .logistic_normal import LogisticNormal  # noqa: E402
from .mixture_same_family import MixtureSameFamily  # noqa: E402
from .negative_binomial import NegativeBinomial  # noqa: E402
from .poisson import Poisson  # noqa: E402
from .relaxed_bernoulli import LogitRelaxedBernoulli, RelaxedBernoulli  # noqa: E402
from .relaxed_categorical import ExpRelaxedCategorical, RelaxedOneHotCategorical  # noqa: E402
from .studentT import StudentT  # noqa: E402
from .transformed_distribution import TransformedDistribution  # noqa: E402
from .transforms import *  # noqa: E402,F401,F403
from .von_mises import VonMises  # noqa: E402
from .fishersnedecor import FisherSnedecor  # noqa: E402
from .inverse_gamma import InverseGamma  # noqa: E402
from .multinomial import Multinomial, OneHotCategoricalStraightThrough  # noqa: E402
from .pareto import Pareto  # noqa: E402
from .weibull import Weibull  # noqa: E402
from . import kl_more as _kl_more  # noqa: E402,F401  (registers the KL pairs)

__all__ += ["Beta", "Binomial", "Cauchy", "Chi2", "Dirichlet", "ExpRelaxedCategorical",
            "ExponentialFamily", "Gamma", "Geometric", "Gumbel", "HalfCauchy", "HalfNormal",
            "LogNormal", "LogisticNormal", "LogitRelaxedBernoulli", "MixtureSameFamily",
            "NegativeBinomial", "Poisson", "RelaxedBernoulli", "RelaxedOneHotCategorical",
            "StudentT", "TransformedDistribution", "VonMises", "biject_to", "transform_to",
            "transforms", "FisherSnedecor", "InverseGamma", "Multinomial",
            "OneHotCategoricalStraightThrough", "Pareto", "Weibull"]
__all__ += transforms.__all__
