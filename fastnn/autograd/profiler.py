"""``torch.autograd.profiler``: the older profiler API, on ``fastnn.profiler``."""
from ..profiler import profile as _profile
from ..profiler import record_function

__all__ = ["profile", "record_function"]


class profile(_profile):
    """``autograd.profiler.profile(enabled=True, ...)``: records op calls and
    ``record_function`` regions while active; ``key_averages().table()``."""

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False,
                 with_flops=False, profile_memory=False, with_stack=False, with_modules=False,
                 use_kineto=False, use_cpu=True, experimental_config=None, acc_events=False,
                 custom_trace_id_callback=None):
        super().__init__(record_shapes=record_shapes)
        self.enabled = bool(enabled)

    def __enter__(self):
        return self.start() if self.enabled else self
