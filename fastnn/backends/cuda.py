"""``torch.backends.cuda``: no CUDA in fastnn; the flags programs set
(``matmul.allow_tf32``, the scaled-dot-product-attention kernel switches)
are accepted with PyTorch's defaults and change nothing."""

__all__ = ["matmul", "is_built", "enable_flash_sdp", "flash_sdp_enabled",
           "enable_mem_efficient_sdp", "mem_efficient_sdp_enabled", "enable_math_sdp",
           "math_sdp_enabled", "enable_cudnn_sdp", "cudnn_sdp_enabled", "sdp_kernel"]

import contextlib
import warnings


class _CuBLASFlags:
    """``torch.backends.cuda.matmul``: settable precision flags."""

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True


matmul = _CuBLASFlags()
_sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True, "overrideable": True}


def is_built():
    return False


def enable_flash_sdp(enabled):
    _sdp["flash"] = bool(enabled)


def flash_sdp_enabled():
    return _sdp["flash"]


def enable_mem_efficient_sdp(enabled):
    _sdp["mem_efficient"] = bool(enabled)


def mem_efficient_sdp_enabled():
    return _sdp["mem_efficient"]


def enable_math_sdp(enabled):
    _sdp["math"] = bool(enabled)


def math_sdp_enabled():
    return _sdp["math"]


def enable_cudnn_sdp(enabled):
    _sdp["cudnn"] = bool(enabled)


def cudnn_sdp_enabled():
    return _sdp["cudnn"]


def _cpu_sdpa_allowed():
    """Whether F.scaled_dot_product_attention may run: on the CPU PyTorch has
    the math and the flash kernels."""
    return _sdp["math"] or _sdp["flash"]


@contextlib.contextmanager
def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True,
               enable_cudnn=True):
    """The deprecated form of ``fastnn.nn.attention.sdpa_kernel`` (with its
    FutureWarning, as PyTorch's)."""
    warnings.warn("torch.backends.cuda.sdp_kernel() is deprecated. In the future, this context "
                  "manager will be removed. Please see torch.nn.attention.sdpa_kernel() for "
                  "the new context manager, with updated signature.", FutureWarning,
                  stacklevel=3)
    saved = dict(_sdp)
    try:
        _sdp.update(flash=bool(enable_flash), math=bool(enable_math),
                    mem_efficient=bool(enable_mem_efficient), cudnn=bool(enable_cudnn))
        yield {}
    finally:
        _sdp.clear()
        _sdp.update(saved)

