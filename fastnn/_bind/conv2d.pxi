# _bind/conv2d.pxi -- bindings for csrc/conv2d.c (filled in by the op's issue)
