"""``torch.backends.mps``: no Metal device in fastnn."""


def is_available():
    return False


def is_built():
    return False
