"""``torch.backends.cudnn``: its flags, accepted and without effect (chainrule has no cuDNN)."""

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available():
    """False: chainrule has no cuDNN."""
    return False


def version():
    """None: no cuDNN is loaded (as PyTorch answers without one)."""
    return None
