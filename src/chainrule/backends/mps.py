"""``torch.backends.mps``: Apple's Metal backend, which chainrule does not have."""


def is_available():
    """False: chainrule has no Metal (MPS) backend."""
    return False


def is_built():
    """False: chainrule is not built with Metal (MPS) support."""
    return False
