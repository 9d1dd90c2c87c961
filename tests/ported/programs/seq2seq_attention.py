"""A GRU encoder-decoder with Bahdanau (additive) attention, as the "NLP From
Scratch: Translation with a Sequence to Sequence Network and Attention" tutorial
writes it, here learning to reverse sequences of digits: the decoder attends over
the encoder's outputs (`torch.bmm` of `F.softmax` weights), is trained with
teacher forcing, and decodes greedily."""

import random

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import optim

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

SOS_token = 0
EOS_token = 1
N_DIGITS = 8
VOCAB = N_DIGITS + 2
MAX_LENGTH = 7
HIDDEN = 32
BATCH_SIZE = 16


def make_pairs(n, seed):
    """(digits, the digits reversed), each ended by EOS and padded to MAX_LENGTH."""
    rng = random.Random(seed)
    inputs, targets = [], []
    for _ in range(n):
        length = rng.randint(3, MAX_LENGTH - 1)
        digits = [2 + rng.randrange(N_DIGITS) for _ in range(length)]
        pad = [EOS_token] * (MAX_LENGTH - length)
        inputs.append(digits + pad)
        targets.append(digits[::-1] + pad)
    return (torch.tensor(inputs, dtype=torch.long, device=device),
            torch.tensor(targets, dtype=torch.long, device=device))


class EncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size, dropout_p=0.1):
        super(EncoderRNN, self).__init__()
        self.hidden_size = hidden_size

        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, input):
        embedded = self.dropout(self.embedding(input))
        output, hidden = self.gru(embedded)
        return output, hidden


class BahdanauAttention(nn.Module):
    def __init__(self, hidden_size):
        super(BahdanauAttention, self).__init__()
        self.Wa = nn.Linear(hidden_size, hidden_size)
        self.Ua = nn.Linear(hidden_size, hidden_size)
        self.Va = nn.Linear(hidden_size, 1)

    def forward(self, query, keys):
        scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))
        scores = scores.squeeze(2).unsqueeze(1)

        weights = F.softmax(scores, dim=-1)
        context = torch.bmm(weights, keys)

        return context, weights


class AttnDecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size, dropout_p=0.1):
        super(AttnDecoderRNN, self).__init__()
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.attention = BahdanauAttention(hidden_size)
        self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, output_size)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, encoder_outputs, encoder_hidden, target_tensor=None):
        batch_size = encoder_outputs.size(0)
        decoder_input = torch.empty(batch_size, 1, dtype=torch.long, device=device).fill_(SOS_token)
        decoder_hidden = encoder_hidden
        decoder_outputs = []
        attentions = []

        for i in range(MAX_LENGTH):
            decoder_output, decoder_hidden, attn_weights = self.forward_step(
                decoder_input, decoder_hidden, encoder_outputs
            )
            decoder_outputs.append(decoder_output)
            attentions.append(attn_weights)

            if target_tensor is not None:
                # Teacher forcing: Feed the target as the next input
                decoder_input = target_tensor[:, i].unsqueeze(1)  # Teacher forcing
            else:
                # Without teacher forcing: use its own predictions as the next input
                _, topi = decoder_output.topk(1)
                decoder_input = topi.squeeze(-1).detach()  # detach from history as input

        decoder_outputs = torch.cat(decoder_outputs, dim=1)
        decoder_outputs = F.log_softmax(decoder_outputs, dim=-1)
        attentions = torch.cat(attentions, dim=1)

        return decoder_outputs, decoder_hidden, attentions

    def forward_step(self, input, hidden, encoder_outputs):
        embedded = self.dropout(self.embedding(input))

        query = hidden.permute(1, 0, 2)
        context, attn_weights = self.attention(query, encoder_outputs)
        input_gru = torch.cat((embedded, context), dim=2)

        output, hidden = self.gru(input_gru, hidden)
        output = self.out(output)

        return output, hidden, attn_weights


class Seq2Seq(nn.Module):
    def __init__(self, dropout_p=0.1):
        super().__init__()
        self.encoder = EncoderRNN(VOCAB, HIDDEN, dropout_p)
        self.decoder = AttnDecoderRNN(HIDDEN, VOCAB, dropout_p)


def build_model(dropout=0.1):
    torch.manual_seed(0)
    return Seq2Seq(dropout).to(device)


def make_batch(seed=0):
    return make_pairs(BATCH_SIZE, seed)


criterion = nn.NLLLoss()


def loss_fn(model, batch):
    input_tensor, target_tensor = batch
    encoder_outputs, encoder_hidden = model.encoder(input_tensor)
    decoder_outputs, _, _ = model.decoder(encoder_outputs, encoder_hidden, target_tensor)
    return criterion(decoder_outputs.view(-1, decoder_outputs.size(-1)), target_tensor.view(-1))


def train_epoch(dataloader, encoder, decoder, encoder_optimizer, decoder_optimizer, criterion):
    total_loss = 0
    for data in dataloader:
        input_tensor, target_tensor = data

        encoder_optimizer.zero_grad()
        decoder_optimizer.zero_grad()

        encoder_outputs, encoder_hidden = encoder(input_tensor)
        decoder_outputs, _, _ = decoder(encoder_outputs, encoder_hidden, target_tensor)

        loss = criterion(
            decoder_outputs.view(-1, decoder_outputs.size(-1)),
            target_tensor.view(-1)
        )
        loss.backward()

        encoder_optimizer.step()
        decoder_optimizer.step()

        total_loss += loss.item()

    return total_loss / len(dataloader)


def train(model, steps, learning_rate=0.01):
    encoder, decoder = model.encoder, model.decoder
    encoder.train()
    decoder.train()
    encoder_optimizer = optim.Adam(encoder.parameters(), lr=learning_rate)
    decoder_optimizer = optim.Adam(decoder.parameters(), lr=learning_rate)
    dataloader = [make_pairs(BATCH_SIZE, seed) for seed in range(1, steps + 1)]
    train_epoch(dataloader, encoder, decoder, encoder_optimizer, decoder_optimizer, criterion)
    encoder.eval()
    decoder.eval()
    with torch.no_grad():
        return loss_fn(model, make_pairs(64, seed=1000)).item()


def evaluate(model, input_tensor):
    with torch.no_grad():
        encoder_outputs, encoder_hidden = model.encoder(input_tensor)
        decoder_outputs, decoder_hidden, decoder_attn = model.decoder(encoder_outputs,
                                                                      encoder_hidden)
        _, topi = decoder_outputs.topk(1)
        decoded_ids = topi.squeeze(-1)
    return decoded_ids, decoder_attn
