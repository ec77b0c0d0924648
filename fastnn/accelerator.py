"""``fastnn.accelerator``: no accelerator; programs that ask fall back to the CPU."""

__all__ = ["is_available", "current_accelerator", "device_count"]


def is_available():
    """False: fastnn computes on the CPU."""
    return False


def current_accelerator(check_available=False):
    """None: there is no accelerator."""
    return None


def device_count():
    return 0
