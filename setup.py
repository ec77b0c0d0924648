"""Build of fastnn's one extension module, ``fastnn._core``.

``fastnn/_core.pyx`` (which includes ``fastnn/_bind/*.pxi``) and every
``csrc/*.c`` are compiled into a single extension.  OpenMP is detected by
compiling and linking a probe; without it the build still succeeds, serial,
and ``fastnn._core.openmp_enabled()`` returns False.  Flags are ``-O3`` with
strict IEEE maths (no fast-math) and the baseline ISA of the target (no
``-march=native``): faster instruction sets are used by per-function target
attributes chosen at run time.
"""
import glob
import os
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
        objs = compiler.compile([src], output_dir=tmp, extra_postargs=["-fopenmp"])
        compiler.link_executable(objs, "probe", output_dir=tmp, extra_postargs=["-fopenmp"])
        return True
    except Exception:  # any compile or link failure means: no OpenMP
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class BuildExt(build_ext):
    def build_extensions(self):
        use_omp = self.compiler.compiler_type == "unix" and _probe_openmp(self.compiler)
        for ext in self.extensions:
            if use_omp:
                ext.extra_compile_args.append("-fopenmp")
                ext.extra_link_args.append("-fopenmp")
            else:
                ext.extra_compile_args += ["-Wno-unknown-pragmas", "-Wno-unused-variable"]
            if os.environ.get("FASTNN_PORTABLE"):
                # no per-function ISA clones: every helper is the baseline build
                ext.define_macros.append(("FNN_NO_CLONES", "1"))
        print(f"fastnn: OpenMP {'enabled' if use_omp else 'not available: serial build'}"
              + ("; portable helpers only (FASTNN_PORTABLE)" if os.environ.get("FASTNN_PORTABLE") else ""))
        super().build_extensions()


def _sources():
    os.chdir(HERE)
    return ["fastnn/_core.pyx"] + sorted(glob.glob("csrc/*.c"))


cflags = ["-O3", "-std=gnu11", "-fno-strict-aliasing", "-fno-math-errno", "-fno-trapping-math",
          "-Wall",
          "-Wno-unused-function", "-Wno-unknown-pragmas"]
if sys.platform == "win32":
    cflags = ["/O2"]

ext = Extension(
    "fastnn._core",
    sources=_sources(),
    include_dirs=["csrc", np.get_include()],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    extra_compile_args=list(cflags),
    extra_link_args=[],
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
