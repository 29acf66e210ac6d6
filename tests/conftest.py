"""Test-session settings shared by every test module."""
import os

import torch

# pytest-xdist runs one worker per core; torch's own threads on top of that oversubscribe the
# cores and make small tensor work many times slower.
if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)
