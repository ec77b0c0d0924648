"""``torch.version``: the fastnn version, and None for the GPU toolkits."""


def __getattr__(name):
    if name == "__version__":
        from . import __version__
        return __version__
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


cuda = None
hip = None
xpu = None
git_version = "unknown"
debug = False

__all__ = ["__version__", "cuda", "hip", "xpu", "git_version", "debug"]
