"""Utilities with PyTorch's names: ``chainrule.utils.hooks``."""
