"""Batches of sequences of different lengths, as ``torch.nn.utils.rnn``.

``pad_sequence`` stacks sequences (each of shape ``(L_i, *)``) into one
tensor, padding the shorter ones; ``unpad_sequence`` cuts them out again.
Both are differentiable: the padding gets no gradient. Packed sequences
(``PackedSequence``, ``pack_padded_sequence``) are not supported yet.

    >>> import chainrule as cr
    >>> a, b = cr.tensor([1.0, 2.0, 3.0]), cr.tensor([4.0])
    >>> pad_sequence([a, b], batch_first=True)
    tensor([[1., 2., 3.],
            [4., 0., 0.]])
    >>> pad_sequence([a, b], batch_first=True, padding_value=-1.0, padding_side="left")
    tensor([[ 1.,  2.,  3.],
            [-1., -1.,  4.]])
"""

from chainrule.ops.creation import full
from chainrule.ops.joining import cat, stack
from chainrule.tensor import Tensor

__all__ = ["pad_sequence", "unpad_sequence"]


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Pad sequences of shapes ``(L_i, *)`` to the longest, L, and stack them.

    out[:, i] = cat(seq_i, full((L - L_i, *), padding_value))  (``"left"``: the padding
    first); shape ``(L, B, *)``, or ``(B, L, *)`` with ``batch_first``. The
    result has the first sequence's dtype, as in PyTorch; d out / d seq_i is
    the identity on seq_i's slots and nothing on the padding.
    """
    name = "pad_sequence"
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError(f"{name}: received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"{name}: Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    for index, seq in enumerate(sequences):
        if not isinstance(seq, Tensor):
            raise TypeError(f"{name}: sequence {index} is a {type(seq).__name__}, not a Tensor")
        if seq.ndim == 0:
            raise RuntimeError(f"{name}: sequence {index} is 0-d; each sequence needs a time "
                               "dimension first, shape (L_i, *)")
        if seq.shape[1:] != sequences[0].shape[1:]:
            raise RuntimeError(
                f"{name}: sequence {index} has shape {tuple(seq.shape)} but sequence 0 has "
                f"{tuple(sequences[0].shape)}; all must agree beyond the first (time) dimension")
    dtype, trailing = sequences[0].dtype, tuple(sequences[0].shape[1:])
    longest = max(seq.shape[0] for seq in sequences)
    padded = []
    for seq in sequences:
        seq = seq.to(dtype)
        missing = longest - seq.shape[0]
        if missing:
            padding = full((missing, *trailing), padding_value, dtype=dtype, device=seq.device)
            seq = cat([seq, padding] if padding_side == "right" else [padding, seq])
        padded.append(seq)
    return stack(padded, dim=0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The sequences of a right-padded batch, each cut to its length: a list of ``(L_i, *)``."""
    name = "unpad_sequence"
    if not isinstance(padded_sequences, Tensor):
        raise TypeError(f"{name}: padded_sequences must be a Tensor, got "
                        f"{type(padded_sequences).__name__}")
    lengths = lengths.tolist() if isinstance(lengths, Tensor) else list(lengths)
    batch = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    if len(lengths) != batch.shape[0]:
        raise ValueError(f"{name}: {len(lengths)} lengths for a batch of {batch.shape[0]} "
                         "sequences")
    return [batch[i][:int(length)] for i, length in enumerate(lengths)]
