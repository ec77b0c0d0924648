# _bind/activation.pxi -- bindings for csrc/activation.c (filled in by the op's issue)
