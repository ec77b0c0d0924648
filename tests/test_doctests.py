"""The docstring examples of the public API run and print what they say.

Collected from the imported fastnn (the installed package in CI, the built
tree in development), one test per module with examples; modules whose
optional dependency is missing are skipped with a reason."""
import doctest
import importlib
import pkgutil

import pytest

import fastnn

_OPTIONAL = {"fastnn.tune": "optuna", "fastnn.tune._optuna": "optuna",
             "fastnn.sklearn": "sklearn", "fastnn.distributed": "mpi4py"}


def _modules():
    names = ["fastnn"] + [m.name for m in pkgutil.walk_packages(fastnn.__path__, "fastnn.")
                          if not m.name.endswith("__main__")]
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    try:
        mod = importlib.import_module(name)
    except ImportError as e:
        pytest.skip(f"{name} needs an optional dependency: {e}")
    tests = [t for t in doctest.DocTestFinder().find(mod, name) if t.examples]
    if not tests:
        pytest.skip(f"{name} has no docstring examples")
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for t in tests:
        runner.run(t)
    res = runner.summarize(verbose=False)
    assert res.failed == 0, f"{res.failed} of {res.attempted} examples in {name} failed"
