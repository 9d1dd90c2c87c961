"""A word-level GRU language model: a vocabulary built from the text, an
embedding, a two-layer `nn.GRU` (batch_first, dropout between layers) and a
linear decoder; trained on random windows with SGD, gradient clipping and a
scheduler; then stateful generation carrying `h` from word to word."""

import random

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

CORPUS = """
the cat sat on the mat . the dog sat on the rug . the cat saw the dog .
the dog saw the cat . a bird sat on the tree . the cat saw a bird on the tree .
the dog ran to the tree and the bird flew away . the cat ran to the mat .
a dog and a cat sat on the rug . the bird sat on the dog . the cat sat on the dog .
the mat is red . the rug is blue . the tree is tall . the bird is small .
""".split()


class Vocabulary:
    def __init__(self, words):
        self.itos = sorted(set(words))
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    def __len__(self):
        return len(self.itos)

    def encode(self, words):
        return [self.stoi[w] for w in words]

    def decode(self, ids):
        return " ".join(self.itos[i] for i in ids)


vocab = Vocabulary(CORPUS)
data = torch.tensor(vocab.encode(CORPUS), dtype=torch.long)

BATCH_SIZE = 8
BPTT = 12


class WordGRU(nn.Module):
    def __init__(self, ntoken, ninp=24, nhid=40, nlayers=2, dropout=0.3):
        super(WordGRU, self).__init__()
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.GRU(ninp, nhid, nlayers, dropout=dropout, batch_first=True)
        self.decoder = nn.Linear(nhid, ntoken)
        self.nhid = nhid
        self.nlayers = nlayers
        self.init_weights()

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden=None):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        return F.log_softmax(decoded, dim=-1), hidden


def random_windows(rng, batch_size=BATCH_SIZE, bptt=BPTT):
    starts = [rng.randrange(len(data) - bptt - 1) for _ in range(batch_size)]
    x = torch.stack([data[s:s + bptt] for s in starts])
    y = torch.stack([data[s + 1:s + bptt + 1] for s in starts])
    return x, y


def build_model(dropout=0.3):
    torch.manual_seed(0)
    return WordGRU(len(vocab), dropout=dropout)


def make_batch(seed=0):
    return random_windows(random.Random(seed))


def loss_fn(model, batch):
    x, y = batch
    output, _ = model(x)
    return F.nll_loss(output.view(-1, len(vocab)), y.view(-1))


def train(model, steps, lr=1.0):
    rng = random.Random(0)
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=max(1, steps // 2), gamma=0.5)
    model.train()
    for step in range(steps):
        x, y = random_windows(rng)
        model.zero_grad()
        output, hidden = model(x)
        loss = F.nll_loss(output.view(-1, len(vocab)), y.view(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        optimizer.step()
        scheduler.step()
    model.eval()
    with torch.no_grad():
        x, y = random_windows(random.Random(99), batch_size=32)
        output, _ = model(x)
        return F.nll_loss(output.view(-1, len(vocab)), y.view(-1)).item()


def generate(model, prompt="the cat", n_words=12, temperature=1.0):
    model.eval()
    ids = vocab.encode(prompt.split())
    with torch.no_grad():
        output, hidden = model(torch.tensor([ids]))
        for _ in range(n_words):
            word_weights = output[0, -1].div(temperature).exp()
            word_idx = torch.multinomial(word_weights, 1)[0]
            ids.append(word_idx.item())
            output, hidden = model(word_idx.view(1, 1), hidden)
    return vocab.decode(ids)
