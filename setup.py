"""Build of fastnn's one extension module, ``fastnn._core``.

``fastnn/_core.pyx`` (which includes ``fastnn/_bind/*.pxi``) and every
``csrc/*.c`` are compiled into a single extension.  OpenMP is detected by
compiling and linking a probe; without it the build still succeeds, serial,
and ``fastnn._core.openmp_enabled()`` returns False.  Flags are ``-O3`` with
the numerics policy below and the baseline ISA of the target (no
``-march=native``): faster instruction sets are used by per-function target
attributes chosen at run time.  The build is a release build: no debug
information (``-g0``; ``FASTNN_DEBUG=1`` keeps it), which keeps the wheel
small.

Build-time switches (environment): ``FASTNN_NO_OPENMP=1`` (serial build),
``FASTNN_PORTABLE=1`` (no per-ISA helper clones), ``FASTNN_DEBUG=1``,
``FASTNN_SANITIZE=1`` (an AddressSanitizer + UndefinedBehaviorSanitizer build
for testing, see docs/testing.md; ``FASTNN_SANITIZE=thread`` or any other
``-fsanitize=`` list picks other sanitizers).  A sanitizer build keeps OpenMP:
the flags go to the OpenMP probe's compile and link too.
"""
import glob
import os
import platform
import shutil
import sys
import tempfile

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
PROBE = "#include <omp.h>\nint main(void){return omp_get_max_threads() > 0 ? 0 : 1;}\n"


def _probe_openmp(compiler):
    """True when the compiler can build and link an OpenMP program."""
    if os.environ.get("FASTNN_NO_OPENMP"):
        return False
    tmp = tempfile.mkdtemp(prefix="fastnn-omp-")
    try:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write(PROBE)
        flags = ["-fopenmp"] + SANITIZE_FLAGS
        objs = compiler.compile([src], output_dir=tmp, extra_postargs=flags)
        compiler.link_executable(objs, "probe", output_dir=tmp, extra_postargs=flags)
        return True
    except Exception:  # any compile or link failure means: no OpenMP
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _compiler_accepts(compiler, flag):
    """True when the compiler (and its assembler) accept flag on a C file."""
    tmp = tempfile.mkdtemp(prefix="fastnn-flag-")
    try:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write("int fnn_probe(int x) { return x > 0 ? x : -x; }\n")
        compiler.compile([src], output_dir=tmp, extra_postargs=[flag])
        return True
    except Exception:  # any failure means: not supported
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _add_per_file_flags(compiler):
    """Appends PER_FILE_CFLAGS[source] to the flags of that source's compile
    (distutils passes one flag list for every source of an extension)."""
    compile_one = compiler._compile

    def _compile(obj, src, ext, cc_args, extra_postargs, pp_opts):
        rel = os.path.relpath(src, HERE).replace(os.sep, "/")
        compile_one(obj, src, ext, cc_args, list(extra_postargs) + PER_FILE_CFLAGS.get(rel, []),
                    pp_opts)

    compiler._compile = _compile


class BuildExt(build_ext):
    def build_extensions(self):
        if self.compiler.compiler_type == "unix":
            _add_per_file_flags(self.compiler)
        use_omp = self.compiler.compiler_type == "unix" and _probe_openmp(self.compiler)
        jcc = (self.compiler.compiler_type == "unix" and platform.machine() in ("x86_64", "AMD64")
               and _compiler_accepts(self.compiler, JCC_FLAG))
        for ext in self.extensions:
            if use_omp:
                ext.extra_compile_args.append("-fopenmp")
                ext.extra_link_args.append("-fopenmp")
            else:
                ext.extra_compile_args += ["-Wno-unknown-pragmas", "-Wno-unused-variable"]
            if jcc:
                ext.extra_compile_args.append(JCC_FLAG)
            if os.environ.get("FASTNN_PORTABLE"):
                # no per-function ISA clones: every helper is the baseline build
                ext.define_macros.append(("FNN_NO_CLONES", "1"))
        print(f"fastnn: OpenMP {'enabled' if use_omp else 'not available: serial build'}"
              + ("; portable helpers only (FASTNN_PORTABLE)" if os.environ.get("FASTNN_PORTABLE") else "")
              + (f"; sanitizers: {' '.join(SANITIZE_FLAGS)}" if SANITIZE_FLAGS else ""))
        super().build_extensions()


def _sources():
    os.chdir(HERE)
    return ["fastnn/_core.pyx"] + sorted(glob.glob("csrc/*.c"))


# Numerics policy -- one for every kernel, set here and nowhere else (no
# ``#pragma GCC optimize`` in csrc/):
#
# * No -ffast-math / -Ofast: NaN and Inf propagate as in PyTorch, and sums
#   are never reassociated (the kernels fix their own summation order, which
#   is what makes results bitwise independent of the thread count).
# * -fno-math-errno: libm calls (sqrt, exp) may be inlined or vectorised;
#   errno is never read.  -fno-trapping-math: no floating-point exception
#   semantics are promised, so comparisons may be if-converted and lane
#   loops vectorised.  Neither changes a result.
# * -ffp-contract=off: a * b + c is rounded twice, as written, also in the
#   AVX2 / AVX-512 clones of the element-wise helpers, so element-wise
#   kernels (activations, batch norm, dropout, optimiser steps, gradient
#   accumulation) match their unfused NumPy / PyTorch references bitwise on
#   every CPU.  Fused multiply-adds come only from explicit intrinsics:
#   the GEMM micro-kernels (gemm_ukr.inc) and the direct GEMM path
#   (gemm_small.inc), whose sums are specified with them.
# * Exceptions (PER_FILE_CFLAGS), each measured: softmax.c and loss.c keep
#   contraction (-ffp-contract=fast), for the exp/log polynomials of
#   fnn_vexp.h: the softmax and cross-entropy passes ran 1.2-1.3x and the
#   binary cross-entropy 1.5x slower without it (interleaved runs, one
#   thread); activation.c likewise, for the erfc/exp polynomials of GELU,
#   SiLU, Mish and ELU (GELU 1.11 -> 0.85 ns per element forward, SiLU
#   0.49 -> 0.34, in-cache CPU time at one thread on the AVX-512 Xeon; the
#   GELU workload's fwd+bwd went from 1.44x PyTorch's time to 0.97x).  Their results then differ between the baseline and the FMA
#   clones in the last bit, which their tests allow.  Turning contraction off
#   elsewhere (batch norm, the Winograd transforms) made no difference
#   beyond noise, so those files follow the rule.
# * Two functions carry their own contraction setting, each beside a
#   comment: conv_wdot.inc's wd_tile turns it on (its sums are specified
#   with fused multiply-adds), act_table.inc's at_sigmoid16 turns it off in
#   activation.c (the table sigmoid's tails must give the generic loops'
#   bits).
# * conv2d.c (the implicit GEMM's packing, padding and copy-out) is compiled
#   without loop-to-library-call distribution: on small planes a packed
#   piece or padding run is 1 to 8 values, and the memset / memmove calls
#   GCC made of such loops took 25% of a 16 -> 32 layer on 4 x 4 images (the
#   16 -> 32 forward 9% faster without them).  Not a numerics flag: no value
#   changes.  (GCC's flag; clang ignores it with a warning.)
cflags = ["-O3", "-std=gnu11", "-fno-strict-aliasing", "-fno-math-errno", "-fno-trapping-math",
          "-ffp-contract=off", "-Wall", "-Wno-unused-function", "-Wno-unknown-pragmas"]
# * fastnn/_core.c (Cython's bindings and the autograd engine: C-API glue, no
#   numeric loops) is compiled for size: 290 kB less code and 160 kB off the
#   wheel; an autograd microbenchmark (8x8 matmul, relu, mul, add, sum and
#   their backward: 31-34 us a step) showed no difference beyond noise.
PER_FILE_CFLAGS = {
    "csrc/softmax.c": ["-ffp-contract=fast"],
    "csrc/loss.c": ["-ffp-contract=fast"],
    "csrc/activation.c": ["-ffp-contract=fast"],
    "csrc/conv2d.c": ["-fno-tree-loop-distribute-patterns"],
    "fastnn/_core.c": ["-Os"],
}
# Code placement: on Intel CPUs of the Skylake family (the JCC erratum fix
# in their microcode) a jump that crosses or ends on a 32-byte boundary
# leaves the decoded-uop cache, and a hot loop whose branch happens to sit
# there runs up to ~1.3x slower; which loops do moves with every change
# anywhere in the library (the strided convolution's weight gradient: 1.3x
# between two builds whose code for it was identical).  The assembler pads
# such branches away when it supports this flag (binutils >= 2.34), so
# speed no longer depends on where the linker puts a function; elsewhere the
# padding costs nothing measurable.
JCC_FLAG = "-Wa,-mbranches-within-32B-boundaries"
ldflags = []
# Sanitizer builds (testing only, never shipped): FASTNN_SANITIZE=1 means
# AddressSanitizer + UndefinedBehaviorSanitizer, every UB finding fatal; the
# same flags go to compile, link and the OpenMP probe.  Line tables (-g1)
# make the reports name files and lines.
_san = os.environ.get("FASTNN_SANITIZE", "").strip()
if _san and sys.platform != "win32":
    _san = "address,undefined" if _san == "1" else _san
    SANITIZE_FLAGS = [f"-fsanitize={_san}", "-fno-omit-frame-pointer"]
    if "undefined" in _san.split(","):
        SANITIZE_FLAGS.append("-fno-sanitize-recover=undefined")
else:
    SANITIZE_FLAGS = []
if SANITIZE_FLAGS:
    cflags += SANITIZE_FLAGS + ["-g1"]
    ldflags += SANITIZE_FLAGS
elif not os.environ.get("FASTNN_DEBUG"):
    cflags.append("-g0")                 # after Python's own -g: no debug information
    ldflags.append("-Wl,--strip-debug")  # nor any from the toolchain's objects
    # no unwind tables (C: nothing unwinds through these frames; about 130 kB
    # of .eh_frame) and unused functions dropped at link time: a smaller wheel
    cflags += ["-fno-asynchronous-unwind-tables", "-fno-unwind-tables",
               "-ffunction-sections", "-fdata-sections"]
    # only the module's entry point exported (PyMODINIT_FUNC marks it
    # visible): the kernels' ~300 fnn_* symbols left the dynamic symbol
    # table and their calls the PLT (about 20 kB off the wheel)
    cflags.append("-fvisibility=hidden")
    ldflags += ["-Wl,--gc-sections"]
    # no symbol table either (about 40 kB of the wheel; the exported entry
    # point stays): FASTNN_KEEP_SYMBOLS=1 keeps it, for a profiler to name
    # the kernels (docs/performance.md)
    if not os.environ.get("FASTNN_KEEP_SYMBOLS"):
        ldflags.append("-Wl,--strip-all")
if sys.platform == "win32":
    cflags, PER_FILE_CFLAGS, ldflags = ["/O2"], {}, []

ext = Extension(
    "fastnn._core",
    sources=_sources(),
    include_dirs=["csrc", np.get_include()],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    extra_compile_args=list(cflags),
    extra_link_args=list(ldflags),
    depends=sorted(glob.glob("csrc/*.h") + glob.glob("csrc/*.inc") + glob.glob("fastnn/_bind/*.pxi")),
)

setup(
    ext_modules=cythonize(
        [ext],
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    ),
    cmdclass={"build_ext": BuildExt},
)
