"""WGAN-GP on the toy "8 gaussians" data, as the improved-WGAN toy scripts write
it: an MLP generator and critic, several critic steps per generator step, and the
gradient penalty: the critic's gradient at random interpolates between real and
fake points, by `torch.autograd.grad(..., create_graph=True)`, so the critic's
update differentiates a gradient (grad of grad)."""

import math
import random

import torch
import torch.nn as nn
import torch.optim as optim
from torch import autograd

DIM = 64  # model dimensionality
NOISE = 2
LAMBDA = 0.1  # smaller lambda seems to help for toy tasks specifically
CRITIC_ITERS = 5  # how many critic iterations per generator iteration
BATCH_SIZE = 32


class Generator(nn.Module):

    def __init__(self):
        super(Generator, self).__init__()

        main = nn.Sequential(
            nn.Linear(NOISE, DIM),
            nn.ReLU(True),
            nn.Linear(DIM, DIM),
            nn.ReLU(True),
            nn.Linear(DIM, 2),
        )
        self.main = main

    def forward(self, noise):
        output = self.main(noise)
        return output


class Discriminator(nn.Module):

    def __init__(self):
        super(Discriminator, self).__init__()

        main = nn.Sequential(
            nn.Linear(2, DIM),
            nn.ReLU(True),
            nn.Linear(DIM, DIM),
            nn.ReLU(True),
            nn.Linear(DIM, 1),
        )
        self.main = main

    def forward(self, inputs):
        output = self.main(inputs)
        return output.view(-1)


class WGAN(nn.Module):
    def __init__(self):
        super().__init__()
        self.netG = Generator()
        self.netD = Discriminator()


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Linear") != -1:
        nn.init.normal_(m.weight, 0.0, 0.02)
        nn.init.constant_(m.bias, 0)


def eight_gaussians(rng, batch_size):
    scale = 2.0
    centers = [(1, 0), (-1, 0), (0, 1), (0, -1), (1. / math.sqrt(2), 1. / math.sqrt(2)),
               (1. / math.sqrt(2), -1. / math.sqrt(2)), (-1. / math.sqrt(2), 1. / math.sqrt(2)),
               (-1. / math.sqrt(2), -1. / math.sqrt(2))]
    centers = [(scale * x, scale * y) for x, y in centers]
    dataset = []
    for i in range(batch_size):
        point = [rng.gauss(0, 1) * 0.02, rng.gauss(0, 1) * 0.02]
        center = rng.choice(centers)
        point[0] += center[0]
        point[1] += center[1]
        dataset.append(point)
    return torch.tensor(dataset) / 1.414  # stdev


def calc_gradient_penalty(netD, real_data, fake_data, alpha):
    alpha = alpha.expand(real_data.size())

    interpolates = alpha * real_data + ((1 - alpha) * fake_data)
    interpolates.requires_grad_(True)

    disc_interpolates = netD(interpolates)

    gradients = autograd.grad(outputs=disc_interpolates, inputs=interpolates,
                              grad_outputs=torch.ones_like(disc_interpolates),
                              create_graph=True, retain_graph=True, only_inputs=True)[0]

    gradient_penalty = ((gradients.norm(2, dim=1) - 1) ** 2).mean() * LAMBDA
    return gradient_penalty


def build_model():
    torch.manual_seed(1)
    model = WGAN()
    model.apply(weights_init)
    return model


def make_batch(seed=0):
    """Real points, the generator's noise and the interpolation weights: drawn here
    (not by the engine's generator) so that both runs see the same numbers."""
    rng = random.Random(seed)
    real = eight_gaussians(rng, BATCH_SIZE)
    noise = torch.tensor([[rng.gauss(0, 1) for _ in range(NOISE)] for _ in range(BATCH_SIZE)])
    alpha = torch.tensor([[rng.random()] for _ in range(BATCH_SIZE)])
    return real, noise, alpha


def critic_loss(model, batch):
    real_data, noise, alpha = batch
    D_real = model.netD(real_data).mean()
    with torch.no_grad():
        fake = model.netG(noise)  # totally freeze netG
    D_fake = model.netD(fake).mean()
    gradient_penalty = calc_gradient_penalty(model.netD, real_data, fake, alpha)
    D_cost = D_fake - D_real + gradient_penalty
    Wasserstein_D = D_real - D_fake
    return D_cost, Wasserstein_D


def loss_fn(model, batch):
    return critic_loss(model, batch)[0]


def train(model, steps):
    netG, netD = model.netG, model.netD
    optimizerD = optim.Adam(netD.parameters(), lr=1e-3, betas=(0.5, 0.9))
    optimizerG = optim.Adam(netG.parameters(), lr=1e-3, betas=(0.5, 0.9))
    seed = 100
    for iteration in range(steps):
        ############################
        # (1) Update D network
        ###########################
        for p in netD.parameters():  # reset requires_grad
            p.requires_grad = True  # they are set to False below in netG update

        for iter_d in range(CRITIC_ITERS):
            seed += 1
            netD.zero_grad()
            D_cost, Wasserstein_D = critic_loss(model, make_batch(seed))
            D_cost.backward()
            optimizerD.step()

        ############################
        # (2) Update G network
        ###########################
        for p in netD.parameters():
            p.requires_grad = False  # to avoid computation
        netG.zero_grad()

        seed += 1
        _, noise, _ = make_batch(seed)
        fake = netG(noise)
        G = netD(fake)
        G = G.mean()
        G_cost = -G
        G_cost.backward()
        optimizerG.step()
    for p in netD.parameters():
        p.requires_grad = True
    _, Wasserstein_D = critic_loss(model, make_batch(0))
    return Wasserstein_D.item()


def sample(model, n=256):
    with torch.no_grad():
        noise = torch.randn(n, NOISE)
        return model.netG(noise)
