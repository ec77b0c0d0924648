# A VQ-VAE (van den Oord et al.) as the well-known PyTorch notebook writes
# it: permute to channels-last, squared distances to the codebook from
# torch.sum(x**2) + torch.sum(w**2) - 2 torch.matmul(x, w.t()), argmin codes,
# one-hot encodings by scatter_, quantisation by matmul, the commitment and
# codebook losses with .detach(), the straight-through estimator, codebook
# perplexity; and the EMA codebook variant (cluster sizes and embedding sums
# kept in buffers, Laplace smoothing, nn.Parameter(torch.Tensor(K, D))
# .normal_() overwritten by the loaded weights), a residual conv
# encoder/decoder with ConvTranspose2d, Adam with amsgrad.
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class VectorQuantizerEMA(nn.Module):
    def __init__(self, num_embeddings, embedding_dim, commitment_cost, decay, epsilon=1e-5):
        super().__init__()
        self._embedding_dim = embedding_dim
        self._num_embeddings = num_embeddings
        self._embedding = nn.Embedding(self._num_embeddings, self._embedding_dim)
        self._embedding.weight.data.uniform_(-1 / num_embeddings, 1 / num_embeddings)
        self._commitment_cost = commitment_cost
        self.register_buffer("_ema_cluster_size", torch.zeros(num_embeddings))
        self._ema_w = nn.Parameter(torch.Tensor(num_embeddings, self._embedding_dim))
        self._ema_w.data.normal_(0, 0.1)
        self._decay = decay
        self._epsilon = epsilon

    def forward(self, inputs):
        inputs = inputs.permute(0, 2, 3, 1).contiguous()   # BCHW -> BHWC
        input_shape = inputs.shape
        flat_input = inputs.view(-1, self._embedding_dim)
        distances = (torch.sum(flat_input ** 2, dim=1, keepdim=True)
                     + torch.sum(self._embedding.weight ** 2, dim=1)
                     - 2 * torch.matmul(flat_input, self._embedding.weight.t()))
        encoding_indices = torch.argmin(distances, dim=1).unsqueeze(1)
        encodings = torch.zeros(encoding_indices.shape[0], self._num_embeddings,
                                device=inputs.device)
        encodings.scatter_(1, encoding_indices, 1)
        quantized = torch.matmul(encodings, self._embedding.weight).view(input_shape)

        if self.training:       # exponential moving averages of the codebook
            self._ema_cluster_size = (self._ema_cluster_size * self._decay
                                      + (1 - self._decay) * torch.sum(encodings, 0))
            n = torch.sum(self._ema_cluster_size.data)
            self._ema_cluster_size = ((self._ema_cluster_size + self._epsilon)
                                      / (n + self._num_embeddings * self._epsilon) * n)
            dw = torch.matmul(encodings.t(), flat_input)
            self._ema_w = nn.Parameter(self._ema_w * self._decay + (1 - self._decay) * dw)
            self._embedding.weight = nn.Parameter(self._ema_w / self._ema_cluster_size.unsqueeze(1))

        e_latent_loss = F.mse_loss(quantized.detach(), inputs)
        loss = self._commitment_cost * e_latent_loss
        quantized = inputs + (quantized - inputs).detach()       # straight through
        avg_probs = torch.mean(encodings, dim=0)
        perplexity = torch.exp(-torch.sum(avg_probs * torch.log(avg_probs + 1e-10)))
        return loss, quantized.permute(0, 3, 1, 2).contiguous(), perplexity, encodings


class Residual(nn.Module):
    def __init__(self, ch, hidden):
        super().__init__()
        self._block = nn.Sequential(nn.ReLU(True), nn.Conv2d(ch, hidden, 3, 1, 1, bias=False),
                                    nn.ReLU(True), nn.Conv2d(hidden, ch, 1, 1, bias=False))

    def forward(self, x):
        return x + self._block(x)


class Net(nn.Module):
    def __init__(self, hidden=16, num_embeddings=16, embedding_dim=4):
        super().__init__()
        self._encoder = nn.Sequential(nn.Conv2d(1, hidden, 4, 2, 1), nn.ReLU(),
                                      nn.Conv2d(hidden, hidden, 3, 1, 1), Residual(hidden, 8),
                                      nn.ReLU())
        self._pre_vq_conv = nn.Conv2d(hidden, embedding_dim, kernel_size=1, stride=1)
        self._vq_vae = VectorQuantizerEMA(num_embeddings, embedding_dim, 0.25, 0.9)
        self._decoder = nn.Sequential(nn.Conv2d(embedding_dim, hidden, 3, 1, 1),
                                      Residual(hidden, 8), nn.ReLU(),
                                      nn.ConvTranspose2d(hidden, 1, 4, 2, 1))

    def forward(self, x):
        z = self._pre_vq_conv(self._encoder(x))
        loss, quantized, perplexity, _ = self._vq_vae(z)
        return loss, self._decoder(quantized), perplexity


def main(workdir):
    torch.manual_seed(0)
    d = np.load(os.path.join(workdir, "digits.npz"))
    images = torch.from_numpy(d["images"].astype(np.float32) / 16.0 - 0.5)
    data_variance = images[:640].var().item()
    model = Net()
    model.load_state_dict(torch.load(os.path.join(workdir, "init.pt"), map_location="cpu"))
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3, amsgrad=True)
    log = []
    model.train()
    for epoch in range(3):
        for i in range(0, 640, 64):
            data = images[i:i + 64]
            optimizer.zero_grad()
            vq_loss, data_recon, perplexity = model(data)
            recon_error = F.mse_loss(data_recon, data) / data_variance
            loss = recon_error + vq_loss
            loss.backward()
            optimizer.step()
            log.append({"loss": loss.item(), "recon": recon_error.item(),
                        "perplexity": perplexity.item(),
                        "cluster_max": model._vq_vae._ema_cluster_size.max().item()})
    model.eval()
    with torch.no_grad():
        vq_loss, recon, perplexity = model(images[1400:])
        _, _, _, enc = model._vq_vae(model._pre_vq_conv(model._encoder(images[1400:])))
    log.append({"test_recon": (F.mse_loss(recon, images[1400:]) / data_variance).item(),
                "test_perplexity": perplexity.item(),
                "codes_used": int((enc.sum(0) > 0).sum().item())})
    print(json.dumps({"log": log}))


if __name__ == "__main__":
    main(sys.argv[1])
