"""The one place qcgrad's version is defined (pyproject reads it; ``qcgrad --version`` prints it)."""
__version__ = "0.2.0"
