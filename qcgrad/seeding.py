"""Seeds derived from keys, so results do not depend on order, executor or batch split."""
from __future__ import annotations

import hashlib
from typing import Any

import torch

#: Samples are drawn in blocks of this many, each block from its own derived seed: sample i
#: is the same number whether 10 or 10 000 samples are drawn, in one call or many.
SAMPLE_BLOCK = 32


def derive_seed(*keys: Any) -> int:
    """A 63-bit seed from any printable keys (study seed, point key, block index, ...).

    Examples
    --------
    >>> derive_seed(0, "n_qubits=4") == derive_seed(0, "n_qubits=4")
    True
    >>> derive_seed(0, 1) != derive_seed(1, 0)
    True
    """
    digest = hashlib.blake2b(repr(keys).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def sample_block(model, seed: int, start: int, stop: int) -> torch.Tensor:
    """Parameter samples ``start..stop-1`` of the stream defined by ``seed``.

    The stream is cut into blocks of :data:`SAMPLE_BLOCK`; block b is drawn with
    ``torch.Generator().manual_seed(derive_seed(seed, b))``. Any split of [0, S) gives the
    same rows.
    """
    if stop <= start:
        return torch.empty(0, model.n_params)
    first, last = start // SAMPLE_BLOCK, (stop - 1) // SAMPLE_BLOCK
    blocks = []
    for b in range(first, last + 1):
        gen = torch.Generator().manual_seed(derive_seed(seed, b))
        blocks.append(model.sample_params(gen, SAMPLE_BLOCK))
    rows = torch.cat(blocks)
    offset = first * SAMPLE_BLOCK
    return rows[start - offset : stop - offset]
