"""``fastnn.nn.utils.rnn`` (PyTorch's ``torch.nn.utils.rnn``): packed and
padded sequences; the implementation is fastnn/nn/_rnn_utils.py."""
from .._rnn_utils import (PackedSequence, invert_permutation, pack_padded_sequence,  # noqa: F401
                          pack_sequence, pad_packed_sequence, pad_sequence, unpack_sequence,
                          unpad_sequence)
from .._rnn_utils import __all__  # noqa: F401
