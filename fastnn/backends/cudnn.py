"""Accepted flags of ``torch.backends.cudnn`` (no cuDNN in fastnn)."""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = False


def is_available():
    return False


def version():
    return None
