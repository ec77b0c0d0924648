# _bind/optim.pxi -- bindings for csrc/optim.c (filled in by the op's issue)
