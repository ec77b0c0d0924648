"""``parameters_to_vector`` / ``vector_to_parameters`` under PyTorch's
module path (``torch.nn.utils.convert_parameters``); implemented in clip_grad.py."""
from .clip_grad import parameters_to_vector, vector_to_parameters  # noqa: F401

__all__ = ["parameters_to_vector", "vector_to_parameters"]
