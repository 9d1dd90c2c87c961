"""Pooling layers, as ``torch.nn``: max, average, adaptive and unpooling, in 1, 2 and 3 dims.

Each holds its options and calls its functional op (``chainrule.nn.functional``),
where the math and the derivatives live.
"""

from chainrule.nn import functional as F
from chainrule.nn.module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
           "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d",
           "FractionalMaxPool2d", "FractionalMaxPool3d"]


class _MaxPool(Module):
    function = None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return getattr(F, self.function)(input, self.kernel_size, self.stride, self.padding,
                                         self.dilation, ceil_mode=self.ceil_mode,
                                         return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPool):
    """The largest value of each window of (N, C, L) input."""

    function = "max_pool1d"


class MaxPool2d(_MaxPool):
    """The largest value of each window of (N, C, H, W) input."""

    function = "max_pool2d"


class MaxPool3d(_MaxPool):
    """The largest value of each window of (N, C, D, H, W) input."""

    function = "max_pool3d"


def _single(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


class AvgPool1d(Module):
    """The mean of each window of (N, C, L) input."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        if type(self) is AvgPool1d:  # PyTorch keeps AvgPool1d's sizes as 1-tuples
            kernel_size, padding = _single(kernel_size), _single(padding)
            stride = None if stride is None else _single(stride)
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AvgPoolWithDivisor(AvgPool1d):
    function = None

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, input):
        return getattr(F, self.function)(input, self.kernel_size, self.stride, self.padding,
                                         self.ceil_mode, self.count_include_pad,
                                         self.divisor_override)


class AvgPool2d(_AvgPoolWithDivisor):
    """The mean of each window of (N, C, H, W) input (``divisor_override``: divide by it)."""

    function = "avg_pool2d"


class AvgPool3d(_AvgPoolWithDivisor):
    """The mean of each window of (N, C, D, H, W) input."""

    function = "avg_pool3d"


class _Adaptive(Module):
    function = None

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input):
        if self.function.startswith("adaptive_max"):
            return getattr(F, self.function)(input, self.output_size, self.return_indices)
        return getattr(F, self.function)(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class _AdaptiveAvg(_Adaptive):
    def __init__(self, output_size):
        super().__init__(output_size)


class AdaptiveMaxPool1d(_Adaptive):
    """Max over windows chosen so that the output has length ``output_size``."""

    function = "adaptive_max_pool1d"


class AdaptiveMaxPool2d(_Adaptive):
    """Max over windows chosen so that the output is ``output_size`` (None keeps a dim)."""

    function = "adaptive_max_pool2d"


class AdaptiveMaxPool3d(_Adaptive):
    """Max over windows chosen so that the output is ``output_size``."""

    function = "adaptive_max_pool3d"


class AdaptiveAvgPool1d(_AdaptiveAvg):
    """Mean over windows chosen so that the output has length ``output_size``."""

    function = "adaptive_avg_pool1d"


class AdaptiveAvgPool2d(_AdaptiveAvg):
    """Mean over windows chosen so that the output is ``output_size`` (1: global average)."""

    function = "adaptive_avg_pool2d"


class AdaptiveAvgPool3d(_AdaptiveAvg):
    """Mean over windows chosen so that the output is ``output_size``."""

    function = "adaptive_avg_pool3d"


class _MaxUnpool(Module):
    function = None

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding = padding

    def forward(self, input, indices, output_size=None):
        return getattr(F, self.function)(input, indices, self.kernel_size, self.stride,
                                         self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpool):
    """Max pooling's partial inverse: each value back at its index, zeros elsewhere."""

    function = "max_unpool1d"


class MaxUnpool2d(_MaxUnpool):
    """Max pooling's partial inverse: each value back at its index, zeros elsewhere."""

    function = "max_unpool2d"


class MaxUnpool3d(_MaxUnpool):
    """Max pooling's partial inverse: each value back at its index, zeros elsewhere."""

    function = "max_unpool3d"


class _FractionalMaxPool(Module):
    function = None

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                 _random_samples=None):
        super().__init__()
        if (output_size is None) == (output_ratio is None):
            raise ValueError(f"{type(self).__name__}: give exactly one of output_size and "
                             "output_ratio")
        self.kernel_size, self.output_size, self.output_ratio = kernel_size, output_size, output_ratio
        self.return_indices, self._random_samples = return_indices, _random_samples

    def forward(self, input):
        return getattr(F, self.function)(input, self.kernel_size, self.output_size,
                                         self.output_ratio, self.return_indices,
                                         _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPool):
    """Max over pseudo-random windows that shrink (N, C, H, W) to ``output_size``."""

    function = "fractional_max_pool2d"


class FractionalMaxPool3d(_FractionalMaxPool):
    """Max over pseudo-random windows that shrink (N, C, D, H, W) to ``output_size``."""

    function = "fractional_max_pool3d"
