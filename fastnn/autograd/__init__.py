"""Reverse-mode automatic differentiation."""
from .function import Context, Function, once_differentiable
from .grad_mode import enable_grad, is_grad_enabled, no_grad
from .gradcheck import gradcheck

__all__ = ["Function", "Context", "once_differentiable", "no_grad", "enable_grad",
           "is_grad_enabled", "gradcheck"]
