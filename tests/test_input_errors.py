"""Bad input to the layers, tensor methods and samplers added for PyTorch programs gets an
error that names the thing, the values and the fix."""

import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F

CASES = [
    ("Hardtanh bounds", lambda: nn.Hardtanh(1.0, -1.0), ValueError,
     r"Hardtanh: max_val \(-1.0\) must be greater than min_val \(1.0\)"),
    ("MultiMarginLoss p", lambda: nn.MultiMarginLoss(p=3), ValueError,
     r"MultiMarginLoss: only p = 1 and p = 2 are supported, got p=3"),
    ("Conv2d groups", lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError,
     r"Conv2d: in_channels \(3\) and out_channels \(4\) must both be divisible by groups \(2\)"),
    ("Conv1d padding_mode", lambda: nn.Conv1d(1, 1, 3, padding_mode="wrap"), ValueError,
     r"Conv1d: padding_mode must be one of \('zeros', 'reflect', 'replicate', 'circular'\)"),
    ("Conv2d kernel tuple", lambda: nn.Conv2d(1, 1, (3, 3, 3)), ValueError,
     r"Conv2d: kernel_size must be an int or 2 ints, got \(3, 3, 3\)"),
    ("ConvTranspose2d padding_mode", lambda: nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect"),
     ValueError, r"ConvTranspose2d: only padding_mode='zeros' is supported"),
    ("ConvTranspose2d output_size", lambda: nn.ConvTranspose2d(1, 1, 3, stride=2)(
        cr.zeros(1, 1, 4, 4), output_size=(20, 20)), ValueError,
     r"ConvTranspose2d: output_size \(20, 20\) is not reachable; dim 0 can be 9 to 10"),
    ("GroupNorm groups", lambda: nn.GroupNorm(3, 4), ValueError,
     r"GroupNorm: num_channels \(4\) must be divisible by num_groups \(3\)"),
    ("InstanceNorm2d rank", lambda: nn.InstanceNorm2d(2)(cr.zeros(2, 2)), ValueError,
     r"InstanceNorm2d: expected 3 or 4-d input, got shape \(2, 2\)"),
    ("Softmax2d rank", lambda: nn.Softmax2d()(cr.zeros(2, 2)), ValueError,
     r"Softmax2d: expected a 3-d or 4-d input, got shape \(2, 2\)"),
    ("Embedding padding_idx", lambda: nn.Embedding(3, 2, padding_idx=5), ValueError,
     r"Embedding: padding_idx 5 is outside the table of 3 rows"),
    ("ZeroPad2d padding", lambda: nn.ZeroPad2d((1, 2, 3)), ValueError,
     r"ZeroPad2d: padding must be an int or 4 ints, got \(1, 2, 3\)"),
    ("FractionalMaxPool2d sizes", lambda: nn.FractionalMaxPool2d(2), ValueError,
     r"FractionalMaxPool2d: give exactly one of output_size and output_ratio"),
    ("Dropout p", lambda: nn.Dropout2d(1.5), ValueError,
     r"Dropout2d: p must be between 0 and 1, got 1.5"),
    ("dropout1d rank", lambda: F.dropout1d(cr.zeros(2, 3, 4, 5)), ValueError,
     r"dropout1d: expected a 2-d \(C, L\) or 3-d \(N, C, L\) input, got shape \(2, 3, 4, 5\)"),
    ("register_buffer name", lambda: nn.Module().register_buffer("a.b", cr.zeros(1)), KeyError,
     r"register_buffer: buffer name can't be empty or contain '.', got 'a.b'"),
    ("copy_ shapes", lambda: cr.zeros(2, 3).copy_(cr.ones(4)), ValueError,
     r"copy_: the source of shape \(4,\) cannot be broadcast to the tensor's shape \(2, 3\)"),
    ("normal layout", lambda: cr.normal(0.0, 1.0, (2,), layout="sparse_coo"), ValueError,
     r"normal: only the strided \(dense\) layout is supported, got sparse_coo"),
    ("normal size", lambda: cr.normal(0.0, 1.0), TypeError,
     r"normal: with a number mean and std, give size"),
    ("multinomial weights", lambda: cr.multinomial(cr.tensor([-1.0, 2.0]), 1), ValueError,
     r"multinomial: weights must be finite, non-negative and have a positive sum"),
    ("multinomial count", lambda: cr.multinomial(cr.tensor([0.0, 2.0]), 2), ValueError,
     r"multinomial: cannot draw 2 samples without replacement from a row with 1 non-zero"),
    ("bernoulli probabilities", lambda: cr.bernoulli(cr.tensor([1.5])), ValueError,
     r"bernoulli: every probability must be in \[0, 1\]"),
    ("geometric p", lambda: cr.zeros(2).geometric_(1.5), ValueError,
     r"geometric_: p must be in \(0, 1\), got 1.5"),
    ("exponential rate", lambda: cr.zeros(2).exponential_(-1.0), ValueError,
     r"exponential_: lambd must be > 0, got lambd=-1.0"),
    ("uniform_ arguments", lambda: cr.zeros(2).uniform_(0, 1, 2), TypeError,
     r"uniform_: expected uniform_\(from=0, to=1, \*, generator=None\)"),
    ("logcumsumexp dtype", lambda: cr.tensor([1, 2]).logcumsumexp(0), TypeError,
     r"logcumsumexp: expected a floating point tensor, got int64"),
    ("nanmean dtype", lambda: cr.tensor([1, 2]).nanmean(), TypeError,
     r"nanmean: expected a floating point tensor, got int64"),
]


@pytest.mark.parametrize("name, call, error, message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_says_what_and_how(name, call, error, message):
    with pytest.raises(error, match=message):
        call()
