"""A character-level LSTM language model: embedding, a two-layer `nn.LSTM`
(batch_first, dropout between layers), a linear decoder; truncated
backpropagation through time over a batchified stream, carrying `(h, c)` from
chunk to chunk (detached), gradient clipping, Adam; and stateful generation
that feeds each sampled character back in with the carried `(h, c)`."""

import torch
import torch.nn as nn
import torch.nn.functional as F

TEXT = """the quick brown fox jumps over the lazy dog. the dog sleeps in the sun and
the fox runs into the wood. a bird sings on the old oak tree while the river runs
down to the sea. the sun sets and the moon comes up over the hill. the fox comes
back to the field, the dog wakes up and barks at the moon, and the bird sleeps.
"""

chars = sorted(set(TEXT))
vocab_size = len(chars)
char_to_ix = {ch: i for i, ch in enumerate(chars)}
ix_to_char = {i: ch for i, ch in enumerate(chars)}

BATCH_SIZE = 4
SEQ_LEN = 20
EMBED = 16
HIDDEN = 48
NUM_LAYERS = 2


def batchify(data, bsz):
    # Work out how cleanly we can divide the dataset into bsz parts, drop the rest,
    # and lay each part out as one row: (bsz, steps), batch first.
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    return data.view(bsz, -1).contiguous()


def get_batch(source, i):
    seq_len = min(SEQ_LEN, source.size(1) - 1 - i)
    data = source[:, i:i + seq_len]
    target = source[:, i + 1:i + 1 + seq_len]
    return data, target


def repackage_hidden(h):
    """Wraps hidden states in new Tensors, to detach them from their history."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    else:
        return tuple(repackage_hidden(v) for v in h)


class CharLSTM(nn.Module):
    def __init__(self, vocab_size, embed_size, hidden_size, num_layers, dropout=0.2):
        super().__init__()
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.lstm = nn.LSTM(embed_size, hidden_size, num_layers=num_layers,
                            batch_first=True, dropout=dropout)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(hidden_size, vocab_size)

    def forward(self, x, hidden):
        emb = self.embedding(x)  # (B, T, E)
        out, hidden = self.lstm(emb, hidden)  # (B, T, H)
        out = self.dropout(out)
        logits = self.fc(out)  # (B, T, V)
        return logits, hidden

    def init_hidden(self, batch_size):
        weight = next(self.parameters())
        return (weight.new_zeros(self.num_layers, batch_size, self.hidden_size),
                weight.new_zeros(self.num_layers, batch_size, self.hidden_size))


train_data = batchify(torch.tensor([char_to_ix[c] for c in TEXT], dtype=torch.long), BATCH_SIZE)


def build_model(dropout=0.2):
    torch.manual_seed(0)
    return CharLSTM(vocab_size, EMBED, HIDDEN, NUM_LAYERS, dropout)


def make_batch(seed=0):
    return get_batch(train_data, seed % (train_data.size(1) - SEQ_LEN))


def loss_fn(model, batch):
    data, targets = batch
    hidden = model.init_hidden(data.size(0))
    output, hidden = model(data, hidden)
    return F.cross_entropy(output.reshape(-1, vocab_size), targets.reshape(-1))


def train(model, steps, lr=1e-2, clip=1.0):
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    step = 0
    while True:
        hidden = model.init_hidden(BATCH_SIZE)
        for i in range(0, train_data.size(1) - 1, SEQ_LEN):
            data, targets = get_batch(train_data, i)
            # Starting each batch, we detach the hidden state from how it was previously
            # produced; otherwise backprop would go all the way to the start.
            hidden = repackage_hidden(hidden)
            optimizer.zero_grad()
            output, hidden = model(data, hidden)
            loss = F.cross_entropy(output.reshape(-1, vocab_size), targets.reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            step += 1
            if step == steps:
                return evaluate(model)


def evaluate(model):
    model.eval()
    total_loss = 0.0
    hidden = model.init_hidden(BATCH_SIZE)
    with torch.no_grad():
        for i in range(0, train_data.size(1) - 1, SEQ_LEN):
            data, targets = get_batch(train_data, i)
            output, hidden = model(data, hidden)
            total_loss += data.size(1) * F.cross_entropy(
                output.reshape(-1, vocab_size), targets.reshape(-1)).item()
    return total_loss / (train_data.size(1) - 1)


def generate(model, prime="the ", length=40, temperature=0.8):
    model.eval()
    hidden = model.init_hidden(1)
    with torch.no_grad():
        x = torch.tensor([[char_to_ix[c] for c in prime]])
        logits, hidden = model(x, hidden)  # warm the state up on the prime
        out = list(prime)
        for _ in range(length):
            probs = F.softmax(logits[:, -1, :] / temperature, dim=-1)
            next_ix = torch.multinomial(probs, num_samples=1)  # (1, 1)
            out.append(ix_to_char[next_ix.item()])
            logits, hidden = model(next_ix, hidden)  # carry (h, c) forward
    return "".join(out)
