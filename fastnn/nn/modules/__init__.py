"""Layer modules."""
from .activation import (CELU, ELU, GELU, SELU, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU,
                         LogSigmoid, LogSoftmax, Mish, PReLU, ReLU, ReLU6, Sigmoid, SiLU,
                         Softmax, Softmin, Softplus, Softsign, Tanh, Threshold)
from .container import (Identity, ModuleDict, ModuleList, ParameterDict, ParameterList,
                        Sequential)
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .distance import CosineSimilarity, PairwiseDistance
from .dropout import (AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d,
                      FeatureAlphaDropout)
from .flatten import Flatten, Unflatten
from .linear import Linear
from .loss import (BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss, CrossEntropyLoss,
                   GaussianNLLLoss, HingeEmbeddingLoss, HuberLoss, KLDivLoss, L1Loss,
                   MarginRankingLoss, MSELoss, MultiLabelSoftMarginLoss, MultiMarginLoss,
                   NLLLoss, PoissonNLLLoss, SmoothL1Loss, SoftMarginLoss, TripletMarginLoss)
from .module import Module, StateDictError
from .pixelshuffle import PixelShuffle, PixelUnshuffle
from .upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
from .normalization import (BatchNorm1d, BatchNorm2d, GroupNorm, InstanceNorm1d,
                            InstanceNorm2d, LayerNorm, LocalResponseNorm, SyncBatchNorm)
from . import utils  # noqa: F401  (PyTorch's module path torch.nn.modules.utils)
from .pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d,
                      AdaptiveMaxPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d, MaxUnpool1d,
                      MaxUnpool2d)

__all__ = ["Module", "StateDictError", "Sequential", "ModuleList", "ModuleDict", "Identity",
           "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d",
           "Dropout", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
           "Flatten", "CrossEntropyLoss", "NLLLoss", "MSELoss", "BCELoss", "BCEWithLogitsLoss",
           "GELU", "SiLU", "Mish", "ELU", "SELU", "CELU", "PReLU", "ReLU6", "Hardtanh",
           "Hardswish", "Hardsigmoid", "Softplus", "Softsign", "LogSigmoid", "Softmin",
           "Threshold", "LayerNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d",
           "LocalResponseNorm", "MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "MaxUnpool1d",
           "MaxUnpool2d", "SyncBatchNorm"]
# issue 14: losses, resampling, channel-wise dropout, distances
__all__ += ["L1Loss", "SmoothL1Loss", "HuberLoss", "KLDivLoss", "MarginRankingLoss",
            "HingeEmbeddingLoss", "CosineEmbeddingLoss", "TripletMarginLoss", "PoissonNLLLoss",
            "GaussianNLLLoss", "MultiMarginLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss",
            "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle",
            "PixelUnshuffle", "Unflatten", "Dropout1d", "Dropout2d", "Dropout3d",
            "AlphaDropout", "FeatureAlphaDropout", "CosineSimilarity", "PairwiseDistance"]
from .ensemble import Ensemble  # noqa: E402
__all__ += ["Ensemble"]
__all__ += ["Conv1d", "ConvTranspose1d", "ConvTranspose2d"]
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase  # noqa: E402
__all__ += ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]
from .sparse import Embedding, EmbeddingBag  # noqa: E402
__all__ += ["Embedding", "EmbeddingBag"]
from .attention import MultiheadAttention  # noqa: E402
__all__ += ["MultiheadAttention"]
from .transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer,  # noqa: E402
                          TransformerEncoder, TransformerEncoderLayer)
__all__ += ["Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
            "TransformerDecoderLayer"]
from .padding import *  # noqa: E402,F401,F403
from .padding import __all__ as _padding_all  # noqa: E402
__all__ += list(_padding_all)
__all__ += ["ParameterList", "ParameterDict"]
from .activation_misc import (GLU, ChannelShuffle, Hardshrink, RMSNorm, Softmax2d,  # noqa: E402
                              Softshrink, Tanhshrink)
__all__ += ["Softshrink", "Hardshrink", "Tanhshrink", "GLU", "Softmax2d", "ChannelShuffle",
            "RMSNorm"]
# sliding blocks, spatial transformer, bilinear, extra losses and pooling (branch apinn)
from .fold import Fold, Unfold  # noqa: E402
__all__ += ["Fold", "Unfold"]
from .bilinear import Bilinear  # noqa: E402
__all__ += ["Bilinear"]
# randomized leaky ReLU, power-average pooling, multi-label margin and
# triplet-with-distance losses (branch nnrest)
from .activation import RReLU  # noqa: E402
from .pooling import LPPool1d, LPPool2d  # noqa: E402
from .loss import MultiLabelMarginLoss, TripletMarginWithDistanceLoss  # noqa: E402
__all__ += ["RReLU", "LPPool1d", "LPPool2d", "MultiLabelMarginLoss",
            "TripletMarginWithDistanceLoss"]
# lazy modules: in_features / in_channels / num_features from the first input (branch lazy)
from .lazy import LazyModuleMixin  # noqa: E402
from .linear import LazyLinear  # noqa: E402
from .conv import LazyConv1d, LazyConv2d, LazyConvTranspose1d, LazyConvTranspose2d  # noqa: E402
from .normalization import (LazyBatchNorm1d, LazyBatchNorm2d, LazyInstanceNorm1d,  # noqa: E402
                            LazyInstanceNorm2d)
__all__ += ["LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConvTranspose1d",
            "LazyConvTranspose2d", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyInstanceNorm1d",
            "LazyInstanceNorm2d"]
from . import batchnorm, instancenorm  # noqa: E402,F401  (PyTorch's module paths)
# connectionist temporal classification loss, adaptive softmax (branch ctc)
from .loss import CTCLoss  # noqa: E402
from .adaptive import AdaptiveLogSoftmaxWithLoss  # noqa: E402
__all__ += ["CTCLoss", "AdaptiveLogSoftmaxWithLoss"]
# 3-D layers, composed of the 2-D ops (branch layers-3d)
from .conv import Conv3d, ConvTranspose3d, LazyConv3d, LazyConvTranspose3d  # noqa: E402
from .pooling import (AdaptiveAvgPool3d, AdaptiveMaxPool3d, AvgPool3d, LPPool3d,  # noqa: E402
                      MaxPool3d, MaxUnpool3d)
from .normalization import (BatchNorm3d, InstanceNorm3d, LazyBatchNorm3d,  # noqa: E402
                            LazyInstanceNorm3d)
__all__ += ["Conv3d", "ConvTranspose3d", "LazyConv3d", "LazyConvTranspose3d", "MaxPool3d",
            "AvgPool3d", "AdaptiveAvgPool3d", "AdaptiveMaxPool3d", "MaxUnpool3d", "LPPool3d",
            "BatchNorm3d", "InstanceNorm3d", "LazyBatchNorm3d", "LazyInstanceNorm3d"]
