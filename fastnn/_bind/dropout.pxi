# _bind/dropout.pxi -- bindings for csrc/dropout.c (filled in by the op's issue)
