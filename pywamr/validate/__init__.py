"""Validation of decoded core modules (the spec's validation algorithm) and its side tables."""
from .module import ValidatedModule, FuncInfo, validate_module  # noqa: F401
