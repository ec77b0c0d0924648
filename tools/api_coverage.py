"""Writes docs/api-coverage.md: for each PyTorch namespace a program uses
(torch, Tensor methods, torch.nn, torch.nn.functional, torch.optim,
torch.optim.lr_scheduler, torch.nn.init, torch.nn.utils, torch.utils.data,
torch.distributions, torch.special, torch.linalg, torch.autograd), which
public names fastnn has and which it lacks.

    python tools/api_coverage.py        # needs torch installed

The lists are computed, not typed: re-run after adding an op.
"""
import inspect
import os
import sys

import fastnn
import fastnn.linalg
import fastnn.nn.functional
import fastnn.nn.init
import fastnn.optim.lr_scheduler
import fastnn.utils.data
import torch
import torch.linalg
import torch.nn.functional
import torch.nn.init
import torch.optim.lr_scheduler
import torch.utils.data

# whole families outside fastnn's scope (GPU, distributed internals,
# quantisation, sparse/complex/float16 types, JIT/compile, FFT, storage and
# other internals ...) and the LU factorisations of torch.linalg
OUT_OF_SCOPE = ("cuda", "mps", "xpu", "quant", "qint", "sparse", "complex", "fft", "jit",
                "compile", "_foreach", "fbgemm", "mkldnn", "miopen", "cudnn", "nested",
                "bfloat16", "half", "float16", "float8", "vmap", "func", "onnx", "export",
                "fx", "hub", "library", "profiler", "distributed", "masked", "special",
                "backends", "storage", "Storage", "Tensor", "dynamo", "inductor", "_",
                "lstm_cell", "gru_cell", "rnn_", "quantized", "fake_", "native_",
                "segment_reduce", "sym_", "is_", "set_", "get_", "use_", "align", "rename",
                "refine_names", "named", "pin_memory", "share_memory", "is_pinned", "untyped",
                "to_", "stft", "istft", "view_as_", "dsmm", "hsmm", "smm", "sspaddmm",
                "indices_copy", "values_copy",
                "lu")

# single names outside the scope: sparse-tensor accessors, quantised and
# complex tensors, other devices, TorchScript and control-flow internals,
# the batch-norm kernels behind SyncBatchNorm, low-rank linear algebra
OUT_OF_SCOPE_NAMES = {"indices", "values", "ccol_indices", "col_indices", "crow_indices",
                      "row_indices", "coalesce", "dense_dim", "hspmm", "saddmm", "spmm",
                      "int_repr", "q_per_channel_axis", "q_per_channel_scales",
                      "q_per_channel_zero_points", "q_scale", "q_zero_point", "qscheme",
                      "choose_qparams_optimized", "cdouble", "cfloat", "polar", "ipu", "mtia",
                      "record_stream", "module_load", "reinforce", "cond", "while_loop",
                      "fork", "wait", "import_ir_module", "import_ir_module_from_buffer",
                      "parse_ir", "parse_schema", "parse_type_comment",
                      "merge_type_from_type_comment", "unify_type_list",
                      "prepare_multiprocessing_environment", "autocast_decrement_nesting",
                      "autocast_increment_nesting", "clear_autocast_cache",
                      "batch_norm_backward_elemt", "batch_norm_backward_reduce",
                      "batch_norm_elemt", "batch_norm_gather_stats",
                      "batch_norm_gather_stats_with_counts", "batch_norm_stats",
                      "batch_norm_update_stats", "lobpcg", "pca_lowrank", "matrix_rank",
                      "symeig"}

# ordinary dense ops whose names a family above would catch
IN_SCOPE = {"masked_fill", "masked_fill_", "masked_scatter", "masked_scatter_", "masked_select",
            "resolve_conj", "resolve_neg", "detach", "detach_", "detach_copy", "storage_offset",
            "is_nonzero", "is_floating_point", "is_tensor", "is_same_size", "is_signed",
            "is_conj", "is_neg", "is_inference", "get_device"}


# names PyTorch keeps only to raise "deprecated since 1.9 and now removed"
# (torch.eig, torch.lstsq, torch.symeig, torch.solve, torch.matrix_rank), and
# slice_inverse (a view-replay internal)
REMOVED = {"eig", "lstsq", "symeig", "solve", "matrix_rank", "slice_inverse"}


# typing helpers and re-exported stdlib names of PyTorch's modules
NOT_API = {"Any", "Callable", "Optional", "DType", "SupportsFloat", "partial", "ref",
           "ScalingType", "SwizzleType", "classproperty", "boolean_dispatch",
           "assert_int_or_pair", "Container", "graph", "graph_settings", "datapipes",
           "argument_validation", "runtime_validation", "runtime_validation_disabled",
           "non_deterministic", "guaranteed_datapipes_determinism", "DataChunk",
           "DFIterDataPipe", "IterDataPipe", "MapDataPipe", "memory_format"}


def public(obj, skip=REMOVED):
    return {n for n in dir(obj) if not n.startswith("_") and n not in skip and n not in NOT_API
            and n not in OUT_OF_SCOPE_NAMES and (n in IN_SCOPE or not _family(n))}


def _family(n):
    return any(n.startswith(p) or p in n.lower() and len(p) > 3 for p in OUT_OF_SCOPE)


def row(title, t, obj):
    # hasattr, not dir(): it also finds lazily loaded attributes
    have = sorted(n for n in t if hasattr(obj, n))
    miss = sorted(n for n in t if not hasattr(obj, n))
    return (f"### {title}\n\n{len(have)} of {len(t)} names ({100 * len(have) // max(len(t), 1)}"
            f"%).\n\n**Present:** " + ", ".join(f"`{n}`" for n in have) +
            "\n\n**Missing:** " + (", ".join(f"`{n}`" for n in miss) or "none") + "\n")


def main(out):
    tmeth = {n for n in public(torch.Tensor) if callable(getattr(torch.Tensor, n, None))}
    tfun = {n for n in public(torch) if callable(getattr(torch, n)) and
            not inspect.isclass(getattr(torch, n))}
    parts = [
        row("torch.* functions", tfun, fastnn),
        row("Tensor methods", tmeth, fastnn.Tensor),
        row("torch.nn modules", {n for n in public(torch.nn) if inspect.isclass(
            getattr(torch.nn, n))}, fastnn.nn),
        row("torch.nn.functional", {n for n in public(torch.nn.functional) if callable(
            getattr(torch.nn.functional, n))}, fastnn.nn.functional),
        row("torch.optim", {n for n in public(torch.optim) if inspect.isclass(
            getattr(torch.optim, n))}, fastnn.optim),
        row("torch.optim.lr_scheduler", {n for n in public(torch.optim.lr_scheduler)
                                         if inspect.isclass(getattr(torch.optim.lr_scheduler,
                                                                    n))},
            fastnn.optim.lr_scheduler),
        row("torch.nn.init", {n for n in public(torch.nn.init) if n.endswith("_") or
                              n == "calculate_gain"}, fastnn.nn.init),
        row("torch.nn.utils", public(torch.nn.utils), fastnn.nn.utils),
        row("torch.utils.data", public(torch.utils.data), fastnn.utils.data),
        row("torch.distributions", {n for n in public(torch.distributions) if inspect.isclass(
            getattr(torch.distributions, n)) or n in ("kl_divergence", "register_kl")},
            fastnn.distributions),
        row("torch.special", {n for n in public(torch.special) if callable(
            getattr(torch.special, n))}, fastnn.special),
        row("torch.linalg", {n for n in dir(torch.linalg) if not n.startswith("_") and callable(
            getattr(torch.linalg, n))}, fastnn.linalg),
        row("torch.autograd", {"Function", "grad", "backward", "gradcheck", "no_grad",
                               "enable_grad", "set_grad_enabled", "inference_mode"},
            fastnn.autograd),
    ]
    head = ("# API coverage against PyTorch " + torch.__version__.split("+")[0] + "\n\n"
            "Generated by `python tools/api_coverage.py` (do not edit by hand). Names "
            "of families outside fastnn's scope — CUDA and other devices, sparse, "
            "complex and half-precision types, quantisation, JIT/compile/export, FFT "
            "and PyTorch internals — are left out "
            "of both columns; see docs/api.md for what is covered and how.\n\n")
    with open(out, "w") as f:
        f.write(head + "\n".join(parts))


if __name__ == "__main__":
    if len(sys.argv) > 2 or (len(sys.argv) == 2 and sys.argv[1].startswith("-")):
        sys.exit("usage: python tools/api_coverage.py [OUTPUT.md]  "
                 "(default docs/api-coverage.md)")
    main(sys.argv[1] if len(sys.argv) > 1 else
         os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs",
                      "api-coverage.md"))
