"""A character-level MLP language model on raw tensors, as in the makemore lectures:
no nn.Module, parameters in a list, a manual forward pass and a manual update."""

import torch
import torch.nn.functional as F

WORDS = """emma olivia ava isabella sophia charlotte mia amelia harper evelyn abigail
emily elizabeth mila ella avery sofia camila aria scarlett victoria madison luna grace
chloe penelope layla riley zoey nora lily eleanor hannah lillian addison aubrey ellie
stella natalie zoe leah hazel violet aurora savannah audrey brooklyn bella claire skylar
lucy paisley everly anna caroline nova genesis emilia kennedy samantha maya willow kinsley
naomi aaliyah elena sarah ariana allison gabriella alice madelyn cora ruby eva serenity
autumn adeline hailey gianna valentina isla eliana quinn nevaeh ivy sadie piper lydia
alexa josephine emery julia delilah arianna vivian kaylee sophie brielle madeline""".split()

CHARS = sorted(set("".join(WORDS)))
STOI = {s: i + 1 for i, s in enumerate(CHARS)}
STOI["."] = 0
ITOS = {i: s for s, i in STOI.items()}
VOCAB = len(STOI)
BLOCK = 3  # context length: how many characters predict the next one
N_EMBD = 10
N_HIDDEN = 64


def build_dataset(words):
    X, Y = [], []
    for w in words:
        context = [0] * BLOCK
        for ch in w + ".":
            ix = STOI[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    X = torch.tensor(X)
    Y = torch.tensor(Y)
    return X, Y


def build_model(seed=2147483647):
    g = torch.Generator().manual_seed(seed)
    C = torch.randn((VOCAB, N_EMBD), generator=g)
    W1 = torch.randn((N_EMBD * BLOCK, N_HIDDEN), generator=g) * (5 / 3) / (N_EMBD * BLOCK) ** 0.5
    b1 = torch.randn(N_HIDDEN, generator=g) * 0.01
    W2 = torch.randn((N_HIDDEN, VOCAB), generator=g) * 0.01
    b2 = torch.randn(VOCAB, generator=g) * 0
    parameters = [C, W1, b1, W2, b2]
    for p in parameters:
        p.requires_grad = True
    return parameters


def make_batch(seed=0):
    return build_dataset(WORDS)


def forward(parameters, X):
    C, W1, b1, W2, b2 = parameters
    emb = C[X]  # (N, BLOCK, N_EMBD)
    h = torch.tanh(emb.view(-1, N_EMBD * BLOCK) @ W1 + b1)
    logits = h @ W2 + b2
    return logits


def loss_fn(parameters, batch):
    X, Y = batch
    logits = forward(parameters, X)
    loss = F.cross_entropy(logits, Y)
    return loss


def train(parameters, steps, lr=0.5):
    batch = make_batch()
    for i in range(steps):
        loss = loss_fn(parameters, batch)
        for p in parameters:
            p.grad = None
        loss.backward()
        update = lr if i < steps // 2 else lr / 5
        with torch.no_grad():
            for p in parameters:
                p -= update * p.grad
    return loss_fn(parameters, batch).item()


def sample(parameters, n=5, seed=2147483647 + 10):
    g = torch.Generator().manual_seed(seed)
    C, W1, b1, W2, b2 = parameters
    out = []
    for _ in range(n):
        name = []
        context = [0] * BLOCK
        while True:
            emb = C[torch.tensor([context])]
            h = torch.tanh(emb.view(1, -1) @ W1 + b1)
            logits = h @ W2 + b2
            probs = F.softmax(logits, dim=1)
            ix = torch.multinomial(probs, num_samples=1, generator=g).item()
            context = context[1:] + [ix]
            if ix == 0 or len(name) >= 20:
                break
            name.append(ITOS[ix])
        out.append("".join(name))
    return out
