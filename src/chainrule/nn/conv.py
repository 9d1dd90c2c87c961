"""Convolution layers, as ``torch.nn``: ``Conv1d/2d/3d`` and ``ConvTranspose1d/2d/3d``.

Each holds its filters and calls its functional op (``chainrule.nn.functional``),
where the math and the derivatives live. Initialised as PyTorch: weight and
bias from U(-b, b), b = 1 / sqrt(fan_in), fan_in = C_in / groups * prod(kernel)
(for the transposed layers, the weight's second dimension times the kernel).
``padding_mode`` (``"zeros"``, ``"reflect"``, ``"replicate"``, ``"circular"``)
pads with ``F.pad`` first, as PyTorch's layers do.
"""

from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.ops import creation

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _tuple(value, n, name, layer):
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise ValueError(f"{layer}: {name} must be an int or {n} ints, got {tuple(value)}")
        return tuple(value)
    return (value,) * n


class _ConvNd(Module):
    """What Conv1d/2d/3d and ConvTranspose1d/2d/3d share: checks, parameters, repr."""

    spatial_dims = 0
    transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 groups, bias, padding_mode, output_padding=0, device=None, dtype=None):
        super().__init__()
        name, n = type(self).__name__, self.spatial_dims
        for label, value in (("in_channels", in_channels), ("out_channels", out_channels),
                             ("groups", groups)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}: {label} must be a positive int, got {value!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must both be divisible by groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, "
                             f"got {padding_mode!r}")
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(f"{name}: padding must be 'same', 'valid' or ints, got {padding!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _tuple(kernel_size, n, "kernel_size", name)
        self.stride = _tuple(stride, n, "stride", name)
        self.padding = padding if isinstance(padding, str) else _tuple(padding, n, "padding", name)
        self.dilation = _tuple(dilation, n, "dilation", name)
        self.output_padding = _tuple(output_padding, n, "output_padding", name)
        self.groups, self.padding_mode = groups, padding_mode
        if self.transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(creation.empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.default_layer_init_(self.weight, self.bias)

    def _padded(self, input):
        """The input padded by ``padding_mode`` (the op then pads nothing), or as it is."""
        if self.padding_mode == "zeros" or isinstance(self.padding, str):
            return input, self.padding
        amounts = []
        for p in reversed(self.padding):
            amounts += [p, p]
        return F.pad(input, tuple(amounts), mode=self.padding_mode), 0

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        n = self.spatial_dims
        if self.padding != (0,) * n:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class _Conv(_ConvNd):
    function = None  # the functional op's name

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device=device, dtype=dtype)

    def forward(self, input):
        input, padding = self._padded(input)
        return getattr(F, self.function)(input, self.weight, self.bias, self.stride, padding,
                                         self.dilation, self.groups)


class Conv1d(_Conv):
    """1-d cross-correlation of (N, C_in, L) signals with (C_out, C_in / groups, k) filters."""

    spatial_dims, function = 1, "conv1d"


class Conv2d(_Conv):
    """2-d cross-correlation of (N, C_in, H, W) images with (C_out, C_in / groups, kh, kw) filters."""

    spatial_dims, function = 2, "conv2d"


class Conv3d(_Conv):
    """3-d cross-correlation of (N, C_in, D, H, W) volumes with (C_out, C_in / groups, kd, kh, kw)
    filters."""

    spatial_dims, function = 3, "conv3d"


class _ConvTranspose(_ConvNd):
    transposed = True
    function = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f"{type(self).__name__}: only padding_mode='zeros' is supported, "
                             f"as in PyTorch; got {padding_mode!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, device, dtype)

    def forward(self, input, output_size=None):
        output_padding = self.output_padding
        if output_size is not None:
            output_padding = self._output_padding_for(input, output_size)
        return getattr(F, self.function)(input, self.weight, self.bias, self.stride,
                                         self.padding, output_padding, self.groups,
                                         self.dilation)

    def _output_padding_for(self, input, output_size):
        """The output_padding that makes the output ``output_size`` (its last dims)."""
        n = self.spatial_dims
        wanted = tuple(output_size)[-n:]
        padding = []
        for d in range(n):
            smallest = ((input.shape[d - n] - 1) * self.stride[d] - 2 * self.padding[d]
                        + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            extra = wanted[d] - smallest
            if not 0 <= extra < max(self.stride[d], self.dilation[d]):
                raise ValueError(f"{type(self).__name__}: output_size {tuple(output_size)} is "
                                 f"not reachable; dim {d} can be {smallest} to "
                                 f"{smallest + max(self.stride[d], self.dilation[d]) - 1}")
            padding.append(extra)
        return tuple(padding)


class ConvTranspose1d(_ConvTranspose):
    """The adjoint (gradient) of Conv1d: (N, C_in, L) to (N, C_out, L_out)."""

    spatial_dims, function = 1, "conv_transpose1d"


class ConvTranspose2d(_ConvTranspose):
    """The adjoint (gradient) of Conv2d: (N, C_in, H, W) to (N, C_out, H_out, W_out)."""

    spatial_dims, function = 2, "conv_transpose2d"


class ConvTranspose3d(_ConvTranspose):
    """The adjoint (gradient) of Conv3d on (N, C_in, D, H, W) volumes."""

    spatial_dims, function = 3, "conv_transpose3d"
