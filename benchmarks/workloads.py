"""Named workloads of /work/shared/PERF.md, as plain data for the benchmarks.

GEMM workloads: name -> dict(M, N, K, trans_a, trans_b), C = op(A) @ op(B),
float32.  The conv-shaped ones use the operand layouts of an im2col
convolution of ``conv_cifar64`` (P = N*H*W = 65536 pixels, C*kh*kw = 576,
K = 64 filters): forward cols(P x 576) @ W(64 x 576)^T, backward data
dY(P x 64) @ W(64 x 576), backward weight dY(P x 64)^T @ cols(P x 576).
Other families may add their own dicts here.
"""

GEMM = {
    "gemm_256": dict(M=256, N=256, K=256, trans_a=False, trans_b=False),
    "gemm_1024": dict(M=1024, N=1024, K=1024, trans_a=False, trans_b=False),
    "gemm_conv_fwd": dict(M=65536, N=64, K=576, trans_a=False, trans_b=True),
    "gemm_conv_bwd_data": dict(M=65536, N=576, K=64, trans_a=False, trans_b=False),
    "gemm_conv_bwd_weight": dict(M=64, N=576, K=65536, trans_a=True, trans_b=False),
    "gemm_linear": dict(M=128, N=256, K=784, trans_a=False, trans_b=True),
}
