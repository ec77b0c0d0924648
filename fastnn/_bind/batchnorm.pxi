# _bind/batchnorm.pxi -- bindings for csrc/batchnorm.c (filled in by the op's issue)
