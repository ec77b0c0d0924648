"""``torch.backends.cpu``: the SIMD level of the kernels chosen for this CPU."""

_NAMES = {"avx512": "AVX512", "avx2": "AVX2"}


def get_cpu_capability():
    """``"AVX512"``, ``"AVX2"`` or ``"DEFAULT"`` (the portable kernels), as torch names them."""
    from .._core import gemm_isa
    return _NAMES.get(gemm_isa(), "DEFAULT")
