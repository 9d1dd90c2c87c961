"""A variational autoencoder, after pytorch/examples' vae/main.py: an MLP encoder
to a mean and log-variance, the reparameterisation trick with `torch.randn_like`,
an MLP decoder, binary cross-entropy (summed) plus the KL divergence, Adam, and
a DataLoader over generated 8x8 images (a bright row and column: a cross)."""

import random

import torch
import torch.utils.data
from torch import nn, optim
from torch.nn import functional as F

IMAGE = 64  # 8 x 8 pixels
HIDDEN = 96
LATENT = 4
BATCH_SIZE = 32


def make_images(n, seed):
    rng = random.Random(seed)
    images, labels = [], []
    for _ in range(n):
        row, col = rng.randrange(8), rng.randrange(8)
        images.append([0.95 if (i // 8 == row or i % 8 == col) else 0.05 + 0.1 * rng.random()
                       for i in range(IMAGE)])
        labels.append(row)
    return torch.tensor(images).view(n, 1, 8, 8), torch.tensor(labels)


class VAE(nn.Module):
    def __init__(self):
        super(VAE, self).__init__()

        self.fc1 = nn.Linear(IMAGE, HIDDEN)
        self.fc21 = nn.Linear(HIDDEN, LATENT)
        self.fc22 = nn.Linear(HIDDEN, LATENT)
        self.fc3 = nn.Linear(LATENT, HIDDEN)
        self.fc4 = nn.Linear(HIDDEN, IMAGE)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        if self.training:
            std = torch.exp(0.5 * logvar)
            eps = torch.randn_like(std)
            return mu + eps * std
        return mu

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, IMAGE))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


# Reconstruction + KL divergence losses summed over all elements and batch
def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, IMAGE), reduction="sum")

    # see Appendix B from VAE paper:
    # Kingma and Welling. Auto-Encoding Variational Bayes. ICLR, 2014
    # 0.5 * sum(1 + log(sigma^2) - mu^2 - sigma^2)
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())

    return BCE + KLD


def build_model():
    torch.manual_seed(1)
    return VAE()


def make_batch(seed=0):
    return make_images(BATCH_SIZE, seed)


def loss_fn(model, batch):
    data, _ = batch
    recon_batch, mu, logvar = model(data)
    return loss_function(recon_batch, data, mu, logvar) / len(data)


def train(model, steps):
    images, labels = make_images(8 * BATCH_SIZE, seed=1)
    train_loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(images, labels), batch_size=BATCH_SIZE, shuffle=True)
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    step = 0
    while step < steps:
        for batch_idx, (data, _) in enumerate(train_loader):
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data)
            loss = loss_function(recon_batch, data, mu, logvar)
            loss.backward()
            optimizer.step()
            step += 1
            if step == steps:
                break
    model.eval()
    test_loss = 0
    with torch.no_grad():
        data, _ = make_images(4 * BATCH_SIZE, seed=2)
        recon_batch, mu, logvar = model(data)
        test_loss += loss_function(recon_batch, data, mu, logvar).item()
    return test_loss / len(data)


def sample(model, n=16):
    with torch.no_grad():
        z = torch.randn(n, LATENT)
        return model.decode(z).view(n, 1, 8, 8)
