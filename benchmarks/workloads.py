"""The named workloads of PERF.md, as plain data for the benchmarks.

Every name PERF.md fixes is a key of ``WORKLOADS`` (name -> one-line
description); the families below hold what the benchmark files need.
float32, NCHW, 2 threads unless a benchmark says otherwise.

GEMM: name -> dict(M, N, K, trans_a, trans_b), C = op(A) @ op(B).  The
conv-shaped ones use the operand layouts of an im2col convolution of
``conv_cifar64`` (P = N*H*W = 65536 pixels, C*kh*kw = 576, K = 64 filters):
forward cols(P x 576) @ W(64 x 576)^T, backward data dY(P x 64) @ W(64 x 576),
backward weight dY(P x 64)^T @ cols(P x 576).
"""

GEMM = {
    "gemm_256": dict(M=256, N=256, K=256, trans_a=False, trans_b=False),
    "gemm_1024": dict(M=1024, N=1024, K=1024, trans_a=False, trans_b=False),
    "gemm_conv_fwd": dict(M=65536, N=64, K=576, trans_a=False, trans_b=True),
    "gemm_conv_bwd_data": dict(M=65536, N=576, K=64, trans_a=False, trans_b=False),
    "gemm_conv_bwd_weight": dict(M=64, N=576, K=65536, trans_a=True, trans_b=False),
    "gemm_linear": dict(M=128, N=256, K=784, trans_a=False, trans_b=True),
}

# name -> (N, C, H, W, K, R, S, stride, padding)
CONV = {
    "conv_cifar64": (64, 64, 32, 32, 64, 3, 3, 1, 1),
    "conv_first": (64, 3, 32, 32, 32, 3, 3, 1, 1),
    "conv_batch1": (1, 64, 32, 32, 64, 3, 3, 1, 1),
    "conv_deep": (32, 128, 16, 16, 128, 3, 3, 1, 1),
}

# convolution layers beyond the plain 3x3 (fwd+bwd, as modules):
# name -> (nn class, args, kwargs, input shape)
CONV_LAYERS = {
    "depthwise3x3": ("Conv2d", (128, 128, 3), dict(padding=1, groups=128), (64, 128, 32, 32)),
    "conv_grouped4": ("Conv2d", (128, 128, 3), dict(padding=1, groups=4), (32, 128, 16, 16)),
    "convT4x4s2": ("ConvTranspose2d", (64, 32, 4), dict(stride=2, padding=1), (64, 64, 16, 16)),
}

# max-pool: input shape, kernel, stride
MAXPOOL = {"maxpool": ((64, 64, 32, 32), 2, 2)}

# BatchNorm2d in training mode: input shape
BATCHNORM = {"batchnorm": (64, 64, 32, 32)}

# normalisation layers, forward + backward (dx, dweight, dbias):
# name -> (functional name, input shape, normalized_shape or num_groups)
NORM = {
    "layernorm": ("layer_norm", (4096, 512), (512,)),
    "groupnorm": ("group_norm", (64, 128, 32, 32), 32),
}

# element-wise activations, forward + backward: name -> (functional name, input shape)
ACTIVATION = {
    "gelu": ("gelu", (64, 64, 32, 32)),
    "silu": ("silu", (64, 64, 32, 32)),
}

# dense layer: (batch, in_features, out_features)
LINEAR = {"linear_mlp": (128, 784, 256)}

# optimiser step: (parameters, tensors they are split into), for each name
OPTIM = {
    "adam_1m": ("adam", 1_000_000, (1, 100)),
    "sgdm_1m": ("sgd", 1_000_000, (1, 100)),
    # the rules added for issue 14 (bench_optim.py's adaptive table)
    "adadelta_1m": ("adadelta", 1_000_000, (1, 100)),
    "adamax_1m": ("adamax", 1_000_000, (1, 100)),
    "nadam_1m": ("nadam", 1_000_000, (1, 100)),
    "radam_1m": ("radam", 1_000_000, (1, 100)),
    "amsgrad_1m": ("amsgrad", 1_000_000, (1, 100)),
}

# whole steps: (model, optimiser or None for inference, batch, input shape)
TRAIN = {
    "mlp_train": ("mlp", "adam", 128, (784,)),
    "cnn_train": ("cnn", "sgd", 64, (3, 32, 32)),
    "cnn_train_b8": ("cnn", "sgd", 8, (3, 32, 32)),
    "cnn_infer_b1": ("cnn", None, 1, (3, 32, 32)),
    "cnn_infer_b64": ("cnn", None, 64, (3, 32, 32)),
    "mobilenet_train": ("mobilenet", "sgd", 32, (3, 32, 32)),
    "lenet_train": ("lenet", "adam", 64, (1, 28, 28)),
}


def mlp(nn):
    """MLP 784-256-256-10 with ReLU, built from ``nn`` (fastnn.nn or torch.nn)."""
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                         nn.Linear(256, 10))


def cnn(nn):
    """PERF.md's small CNN: conv3x3(3->32)-BN-ReLU-maxpool2,
    conv3x3(32->64)-BN-ReLU-maxpool2, flatten, linear(4096->10)."""
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(4096, 10))


def _dw_separable(nn, cin, cout, stride):
    """MobileNet's block: depthwise 3x3 (stride) - BN - ReLU, pointwise 1x1 - BN - ReLU."""
    return [nn.Conv2d(cin, cin, 3, stride=stride, padding=1, groups=cin, bias=False),
            nn.BatchNorm2d(cin), nn.ReLU(),
            nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


def mobilenet(nn):
    """A small MobileNet-style net for 3x32x32 input: conv3x3(3->32, s2)-BN-ReLU,
    depthwise-separable blocks 32->64, 64->128 (s2), 128->128, 128->256 (s2),
    256->256, global average pool (4x4), linear 256->10."""
    layers = [nn.Conv2d(3, 32, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(32),
              nn.ReLU()]
    for cin, cout, stride in ((32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2),
                              (256, 256, 1)):
        layers += _dw_separable(nn, cin, cout, stride)
    layers += [nn.AvgPool2d(4), nn.Flatten(), nn.Linear(256, 10)]
    return nn.Sequential(*layers)


def lenet(nn):
    """The LeNet-style MNIST net of issue 18's whole-program comparison: conv5x5(1->16)-ReLU-
    maxpool2, conv5x5(16->32)-BN-ReLU-maxpool2, linear 512->128-ReLU, linear 128->10, for
    1x28x28 input."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 4 * 4, 128), nn.ReLU(), nn.Linear(128, 10))


MODELS = {"mlp": mlp, "cnn": cnn, "mobilenet": mobilenet, "lenet": lenet}

WORKLOADS = {
    **{k: f"GEMM {v['M']}x{v['N']}x{v['K']}" for k, v in GEMM.items()},
    **{k: "conv {5}x{6} s{7} p{8}, N={0}, C={1}, {2}x{3}, K={4}".format(*v)
       for k, v in CONV.items()},
    "maxpool": "2x2 stride 2 max-pool on (64, 64, 32, 32)",
    "batchnorm": "BatchNorm2d training on (64, 64, 32, 32)",
    "layernorm": "LayerNorm(512) on (4096, 512), fwd+bwd",
    "groupnorm": "GroupNorm(32, 128) on (64, 128, 32, 32), fwd+bwd",
    "gelu": "GELU on (64, 64, 32, 32), fwd+bwd",
    "silu": "SiLU on (64, 64, 32, 32), fwd+bwd",
    "linear_mlp": "linear 784->256, batch 128",
    "adam_1m": "one Adam step over 1,000,000 params in 1 tensor and in 100",
    "sgdm_1m": "one SGD-momentum step over 1,000,000 params in 1 tensor and in 100",
    "mlp_train": "MLP 784-256-256-10 training step, Adam, batch 128",
    "cnn_train": "small CNN training step, SGD momentum 0.9, batch 64",
    "cnn_train_b8": "small CNN training step, batch 8",
    "cnn_infer_b1": "small CNN inference, eval, no grad, batch 1",
    "cnn_infer_b64": "small CNN inference, eval, no grad, batch 64",
    "depthwise3x3": "depthwise Conv2d(128, 128, 3, padding=1, groups=128) on (64, 128, 32, 32), "
                    "fwd+bwd",
    "conv_grouped4": "grouped Conv2d(128, 128, 3, padding=1, groups=4) on (32, 128, 16, 16), "
                     "fwd+bwd",
    "convT4x4s2": "ConvTranspose2d(64, 32, 4, stride 2, padding 1) on (64, 64, 16, 16), fwd+bwd",
    "mobilenet_train": "MobileNet-style training step (depthwise-separable blocks, BN, ReLU), "
                       "SGD momentum 0.9, batch 32 on 3x32x32",
    "lenet_train": "LeNet-style training step (5x5 convolutions 1->16->32, BN, max-pools, two "
                   "linear layers), Adam, batch 64 on 1x28x28",
}

# sequence models (issue 15): name -> what to build and run
SEQ = {
    "lstm_train": dict(model="LSTM", batch=32, seq=64, input=256, hidden=256, layers=2,
                       train=True),
    "gru_train": dict(model="GRU", batch=32, seq=64, input=256, hidden=256, layers=2,
                      train=True),
    "lstm_infer_b1": dict(model="LSTM", batch=1, seq=64, input=256, hidden=256, layers=2,
                          train=False),
    "transformer_train": dict(model="TransformerEncoder", batch=16, seq=128, d_model=256,
                              nhead=4, layers=2, train=True),
}
WORKLOADS.update({
    "lstm_train": "LSTM(256, 256, 2 layers, batch_first) on (32, 64, 256), fwd+bwd",
    "gru_train": "GRU(256, 256, 2 layers, batch_first) on (32, 64, 256), fwd+bwd",
    "lstm_infer_b1": "LSTM(256, 256, 2 layers) on (1, 64, 256), eval, no grad",
    "transformer_train": "TransformerEncoder, 2 layers, d_model 256, 4 heads, seq 128, batch 16, "
                         "fwd+bwd",
})

# The convolution shape sweep (issue 18: every shape a user's network has, not only
# the named 3x3 ones): name -> (N, C, H, W, K, kernel, stride, padding, groups).
# LeNet, VGG, ResNet-18/50 stems and bottlenecks, MobileNet, few channels, tiny images.
CONV_SWEEP = {
    "lenet_c1_5x5_1to16": (64, 1, 28, 28, 16, 5, 1, 0, 1),
    "lenet_c2_5x5_16to32": (64, 16, 12, 12, 32, 5, 1, 0, 1),
    "5x5_16to32_14": (64, 16, 14, 14, 32, 5, 1, 2, 1),
    "5x5_32to64_14": (64, 32, 14, 14, 64, 5, 1, 2, 1),
    "5x5_3to10_32": (64, 3, 32, 32, 10, 5, 1, 0, 1),
    "mnist_3x3_1to32": (64, 1, 28, 28, 32, 3, 1, 1, 1),
    "few_3x3_8to8": (64, 8, 32, 32, 8, 3, 1, 1, 1),
    "cifar_3x3_3to32": (64, 3, 32, 32, 32, 3, 1, 1, 1),
    "vgg_3x3_64_32": (16, 64, 32, 32, 64, 3, 1, 1, 1),
    "vgg_3x3_128_16": (16, 128, 16, 16, 128, 3, 1, 1, 1),
    "vgg_3x3_256_8": (16, 256, 8, 8, 256, 3, 1, 1, 1),
    "vgg_3x3_512_4": (16, 512, 4, 4, 512, 3, 1, 1, 1),
    "resnet18_3x3_512_7": (8, 512, 7, 7, 512, 3, 1, 1, 1),
    "resnet_stem_7x7s2": (16, 3, 64, 64, 64, 7, 2, 3, 1),
    "resnet_stem_7x7s2_b1": (1, 3, 224, 224, 64, 7, 2, 3, 1),
    "resnet_down_3x3s2": (32, 64, 32, 32, 128, 3, 2, 1, 1),
    "resnet_b1_3x3_64_56": (1, 64, 56, 56, 64, 3, 1, 1, 1),
    "bottleneck_1x1_expand": (32, 64, 16, 16, 256, 1, 1, 0, 1),
    "bottleneck_1x1_reduce": (32, 256, 16, 16, 64, 1, 1, 0, 1),
    "bottleneck_3x3_64_14": (8, 64, 14, 14, 64, 3, 1, 1, 1),
    "bottleneck_1x1s2_down": (8, 256, 28, 28, 512, 1, 2, 0, 1),
    "7x7_32to32_16": (16, 32, 16, 16, 32, 7, 1, 3, 1),
    "small_3x3_16to32_4": (64, 16, 4, 4, 32, 3, 1, 1, 1),
    "small_3x3_32to64_8": (64, 32, 8, 8, 64, 3, 1, 1, 1),
    "mobilenet_dw_3x3_64": (32, 64, 16, 16, 64, 3, 1, 1, 64),
    "mobilenet_dw_3x3s2_128": (32, 128, 16, 16, 128, 3, 2, 1, 128),
    "mobilenet_pw_64to128_16": (32, 64, 16, 16, 128, 1, 1, 0, 1),
    "mobilenet_pw_256to256_4": (32, 256, 4, 4, 256, 1, 1, 0, 1),
    # tutorial networks (added in the twenty-first session): LeNet-5's C1
    # (padding 2) and C5 (the window is the whole input), the PyTorch CIFAR
    # tutorial's unpadded 6 -> 16, a ResNet-20 downsampling layer, DCGAN's
    # 4x4 stride 2, an AlexNet-style 5x5 on 7x7
    "lenet5_c1_5x5_1to6": (64, 1, 28, 28, 6, 5, 1, 2, 1),
    "lenet5_c5_5x5_16to120": (64, 16, 5, 5, 120, 5, 1, 0, 1),
    "cifar_tut_5x5_6to16": (64, 6, 14, 14, 16, 5, 1, 0, 1),
    "resnet20_down_3x3s2": (128, 32, 16, 16, 64, 3, 2, 1, 1),
    "dcgan_4x4s2_64to128": (64, 64, 32, 32, 128, 4, 2, 1, 1),
    "alexnet_5x5_64to192_7": (32, 64, 7, 7, 192, 5, 1, 2, 1),
    # (added in the twenty-second session) MobileNet's strided first layer on
    # CIFAR-sized input, and an autoencoder's narrowing 32 -> 8
    "mobilenet_first_3x3s2_3to32": (64, 3, 32, 32, 32, 3, 2, 1, 1),
    "ae_3x3_32to8_32": (64, 32, 32, 32, 8, 3, 1, 1, 1),
}
WORKLOADS.update({
    k: "Conv2d({1}, {4}, {5}, stride={6}, padding={7}, groups={8}) on ({0}, {1}, {2}, {3})"
       .format(*v) for k, v in CONV_SWEEP.items()})

# CTC loss (branch ctc): name -> log_probs (T, N, C), padded targets of at
# most S labels (lengths S/2..S), every input length T; fwd and fwd+bwd
CTC = {
    "ctc_small": dict(T=50, N=16, C=20, S=15),
    "ctc_speech": dict(T=200, N=32, C=29, S=60),
}
WORKLOADS.update({k: "CTC loss, log_probs ({T}, {N}, {C}), targets up to {S} labels, "
                     "reduction mean".format(**v) for k, v in CTC.items()})
