"""Spatial nn.functional ops beyond what the OpInfo samples reach, against PyTorch, and errors.

The OpInfo samples (tests/opinfo) cover the common paths; these rows reach
what their sample caps leave out (bicubic grid sampling, antialiased
resizing, fractional pools with given samples, crops in every pad mode,
output_padding wider than the stride) and check the error messages.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as cr
from tests.tensor.parity import check_op, random_inputs

CF = cr.nn.functional


def _grid(shape, seed=1):
    return random_inputs([shape], domain=(-1.3, 1.3), seed=seed)[0]


CASES = {
    **{f"grid_sample_bicubic_{pad}_{corners}": (
        lambda x, g, p=pad, a=corners: CF.grid_sample(x, g, "bicubic", p, a),
        lambda x, g, p=pad, a=corners: F.grid_sample(x, g, "bicubic", p, a),
        [random_inputs([(2, 2, 5, 6)])[0], _grid((2, 3, 4, 2))])
       for pad in ("zeros", "border", "reflection") for corners in (False, True)},
    "grid_sample_3d_reflection": (
        lambda x, g: CF.grid_sample(x, g, padding_mode="reflection", align_corners=True),
        lambda x, g: F.grid_sample(x, g, padding_mode="reflection", align_corners=True),
        [random_inputs([(1, 2, 3, 4, 3)])[0], _grid((1, 2, 3, 2, 3))]),
    **{f"interpolate_antialias_{mode}_{size}": (
        lambda x, m=mode, s=size: CF.interpolate(x, size=s, mode=m, antialias=True),
        lambda x, m=mode, s=size: F.interpolate(x, size=s, mode=m, antialias=True),
        random_inputs([(1, 2, 9, 11)]))
       for mode in ("bilinear", "bicubic") for size in ((4, 5), (12, 4))},
    "interpolate_bicubic_scale": (
        lambda x: CF.interpolate(x, scale_factor=(1.5, 0.7), mode="bicubic"),
        lambda x: F.interpolate(x, scale_factor=(1.5, 0.7), mode="bicubic"),
        random_inputs([(1, 1, 5, 6)])),
    **{f"pad_{mode}_crop_{amounts}": (
        lambda x, m=mode, a=amounts: CF.pad(x, a, mode=m),
        lambda x, m=mode, a=amounts: F.pad(x, a, mode=m),
        random_inputs([(1, 2, 5)]))
       for mode in ("reflect", "replicate", "circular") for amounts in ((-1, 1), (2, -3))},
    "conv_transpose2d_output_padding_past_stride": (
        lambda x, w: CF.conv_transpose2d(x, w, stride=(1, 2), padding=1, output_padding=(1, 2),
                                         dilation=3),
        lambda x, w: F.conv_transpose2d(x, w, stride=(1, 2), padding=1, output_padding=(1, 2),
                                        dilation=3),
        random_inputs([(1, 2, 3, 3), (2, 1, 2, 3)])),
    "adaptive_max_pool2d_overlapping": (
        lambda x: CF.adaptive_max_pool2d(x, (4, 3)), lambda x: F.adaptive_max_pool2d(x, (4, 3)),
        random_inputs([(1, 2, 5, 7)])),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_pytorch(name):
    ours, theirs, arrays = CASES[name]
    check_op(ours, theirs, arrays, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("d", [2, 3])
def test_fractional_max_pool_places_windows_as_pytorch(d):
    torch.manual_seed(0)
    x = torch.randn((2, 3) + (9,) * d, dtype=torch.float64)
    samples = torch.rand(2, 3, d, dtype=torch.float64)
    size = (3,) * (d - 1) + (4,)
    theirs = getattr(F, f"fractional_max_pool{d}d")(x, 2, output_size=size,
                                                     _random_samples=samples, return_indices=True)
    ours = getattr(CF, f"fractional_max_pool{d}d")(
        cr.tensor(x.numpy()), 2, output_size=size, _random_samples=cr.tensor(samples.numpy()),
        return_indices=True)
    np.testing.assert_array_equal(ours[0].array, theirs[0].numpy())
    np.testing.assert_array_equal(ours[1].array, theirs[1].numpy())


ERRORS = [
    (lambda: CF.conv_transpose1d(cr.ones(1, 2, 4), cr.ones(2, 1, 3), stride=2,
                                 output_padding=2), ValueError,
     "conv_transpose1d: output_padding (2,) must be smaller than either stride (2,) or "
     "dilation (1,)"),
    (lambda: CF.conv_transpose2d(cr.ones(1, 3, 4, 4), cr.ones(2, 1, 3, 3)), ValueError,
     "conv_transpose2d: weight of shape (2, 1, 3, 3) expects input with 2 channels"),
    (lambda: CF.conv3d(cr.ones(1, 4, 4), cr.ones(1, 1, 2, 2, 2)), ValueError,
     "conv3d: expected a 4-d (C, D, H, W) or 5-d (N, C, D, H, W) input, got shape (1, 4, 4)"),
    (lambda: CF.conv1d(cr.ones(1, 1, 4), cr.ones(1, 1, 2, 2)), ValueError,
     "conv1d: weight must be 3-d (out_channels, in_channels / groups, k)"),
    (lambda: CF.max_pool3d(cr.ones(1, 1, 4, 4, 4), (2, 2)), TypeError,
     "max_pool3d: kernel_size must be an int or a tuple of 3 ints, got (2, 2)"),
    (lambda: CF.max_unpool1d(cr.ones(1, 1, 2), cr.tensor([[[0, 9]]]), 2), IndexError,
     "max_unpool1d: indices must lie in [0, 4) for output size (4,), got values from 0 to 9"),
    (lambda: CF.pixel_shuffle(cr.ones(1, 6, 2, 2), 2), ValueError,
     "pixel_shuffle: the number of channels (6, of shape (1, 6, 2, 2)) must be divisible by "
     "upscale_factor squared (2 * 2)"),
    (lambda: CF.pixel_unshuffle(cr.ones(1, 1, 4, 5), 2), ValueError,
     "pixel_unshuffle: height and width (4 x 5, of shape (1, 1, 4, 5)) must be divisible by "
     "downscale_factor (2)"),
    (lambda: CF.channel_shuffle(cr.ones(1, 6, 2), 4), ValueError,
     "channel_shuffle: the number of channels (6) must be divisible by groups (4)"),
    (lambda: CF.interpolate(cr.ones(1, 1, 4), size=3, align_corners=True), ValueError,
     "align_corners option can only be set with the interpolating modes"),
    (lambda: CF.interpolate(cr.ones(1, 1, 4), size=3, mode="bilinear"), ValueError,
     "interpolate: mode 'bilinear' expects a 4-d input"),
    (lambda: CF.interpolate(cr.ones(1, 1, 4), size=3, scale_factor=2.0), ValueError,
     "interpolate: give exactly one of size and scale_factor"),
    (lambda: CF.grid_sample(cr.ones(1, 1, 3, 3), cr.zeros(1, 2, 2, 2), mode="area"), ValueError,
     "grid_sample: mode must be 'bilinear', 'nearest' or 'bicubic', got 'area'"),
    (lambda: cr.grid_sampler_3d(cr.ones(1, 1, 3, 3, 3), cr.zeros(1, 2, 2, 2, 3), 2, 0, False),
     ValueError, "(bicubic, 2-d only)"),
    (lambda: CF.fractional_max_pool2d(cr.ones(1, 1, 5, 5), 3, output_size=4), ValueError,
     "fractional_max_pool2d: output_size (4, 4) plus kernel_size (3, 3) minus one must fit"),
    (lambda: CF.pad(cr.ones(1, 4), (5, 0), mode="circular"), ValueError,
     "pad: circular padding needs 0 <= amount <= size of the dimension (4), got 5 and 0"),
    (lambda: CF.pad(cr.ones(1, 4), (4, -1), mode="reflect"), ValueError,
     "pad: reflect padding needs 0 <= amount < size of the dimension (4), got 4 and -1"),
]


@pytest.mark.parametrize("call, error, words", ERRORS, ids=[e[2][:40] for e in ERRORS])
def test_errors_name_the_op_and_the_values(call, error, words):
    with pytest.raises(error) as raised:
        call()
    assert words in str(raised.value)
