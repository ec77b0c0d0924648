# _bind/pool2d.pxi -- bindings for csrc/pool2d.c (filled in by the op's issue)
