# _bind/loss.pxi -- bindings for csrc/loss.c (filled in by the op's issue)
