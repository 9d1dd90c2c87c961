"""A small residual CNN, as the CIFAR ResNet tutorials write it: BasicBlocks of
3x3 convolutions with BatchNorm2d and a 1x1 projection shortcut, global average
pooling and a linear classifier; a DataLoader over a TensorDataset of generated
images (shuffled by a seeded Generator), SGD with Nesterov momentum and weight
decay, and a MultiStepLR schedule stepped once per epoch."""

import random

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

NUM_CLASSES = 4
SIZE = 8
BATCH_SIZE = 16


def make_images(n, seed):
    """Four kinds of 3x8x8 pattern (rows, columns, diagonals, checks), with noise."""
    rng = random.Random(seed)
    images, labels = [], []
    for _ in range(n):
        label = rng.randrange(NUM_CLASSES)
        phase = rng.randrange(2)
        image = []
        for c in range(3):
            channel = []
            for i in range(SIZE):
                row = []
                for j in range(SIZE):
                    on = [i, j, i + j, i // 2 + j // 2][label] % 2 == phase
                    row.append((1.0 if on else -1.0) * (0.5 + 0.25 * c) + rng.gauss(0, 1.5))
                channel.append(row)
            image.append(channel)
        images.append(image)
        labels.append(label)
    return torch.tensor(images), torch.tensor(labels)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super(BasicBlock, self).__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)

        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != self.expansion * planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride,
                          bias=False),
                nn.BatchNorm2d(self.expansion * planes)
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        out = F.relu(out)
        return out


class ResNet(nn.Module):
    def __init__(self, block, num_blocks, num_classes=NUM_CLASSES):
        super(ResNet, self).__init__()
        self.in_planes = 8

        self.conv1 = nn.Conv2d(3, 8, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = self._make_layer(block, 8, num_blocks[0], stride=1)
        self.layer2 = self._make_layer(block, 16, num_blocks[1], stride=2)
        self.linear = nn.Linear(16 * block.expansion, num_classes)

    def _make_layer(self, block, planes, num_blocks, stride):
        strides = [stride] + [1] * (num_blocks - 1)
        layers = []
        for stride in strides:
            layers.append(block(self.in_planes, planes, stride))
            self.in_planes = planes * block.expansion
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer1(out)
        out = self.layer2(out)
        out = F.adaptive_avg_pool2d(out, (1, 1))
        out = out.view(out.size(0), -1)
        out = self.linear(out)
        return out


def build_model():
    torch.manual_seed(0)
    return ResNet(BasicBlock, [1, 1])


def make_batch(seed=0):
    return make_images(BATCH_SIZE, seed)


criterion = nn.CrossEntropyLoss()


def loss_fn(model, batch):
    inputs, targets = batch
    outputs = model(inputs)
    return criterion(outputs, targets)


def train(model, steps, epochs=4):
    images, labels = make_images(BATCH_SIZE * max(1, steps // epochs), seed=1)
    trainloader = DataLoader(TensorDataset(images, labels), batch_size=BATCH_SIZE,
                             shuffle=True, generator=torch.Generator().manual_seed(0))
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True,
                          weight_decay=5e-4)
    scheduler = optim.lr_scheduler.MultiStepLR(optimizer, milestones=[epochs // 2], gamma=0.1)
    for epoch in range(epochs):
        model.train()
        train_loss = 0
        correct = 0
        total = 0
        for batch_idx, (inputs, targets) in enumerate(trainloader):
            optimizer.zero_grad()
            outputs = model(inputs)
            loss = criterion(outputs, targets)
            loss.backward()
            optimizer.step()

            train_loss += loss.item()
            _, predicted = outputs.max(1)
            total += targets.size(0)
            correct += predicted.eq(targets).sum().item()
        scheduler.step()
    return test(model)


def test(model):
    model.eval()
    inputs, targets = make_images(64, seed=2)
    with torch.no_grad():
        outputs = model(inputs)
        loss = criterion(outputs, targets)
    return loss.item()


def accuracy(model, seed=2):
    model.eval()
    inputs, targets = make_images(64, seed)
    with torch.no_grad():
        _, predicted = model(inputs).max(1)
    return predicted.eq(targets).float().mean().item()
