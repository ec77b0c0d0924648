"""``torch.backends.mkldnn``: fastnn has its own kernels, no oneDNN."""
enabled = True


def is_available():
    return False
