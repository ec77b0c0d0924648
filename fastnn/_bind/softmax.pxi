# _bind/softmax.pxi -- bindings for csrc/softmax.c (filled in by the op's issue)
