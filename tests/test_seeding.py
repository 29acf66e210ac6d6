import torch

from qcgrad.seeding import SAMPLE_BLOCK, derive_seed, sample_block

from toy_models import SineModel


def test_any_split_of_the_stream_gives_the_same_rows():
    model = SineModel((1.0, 2.0))
    whole = sample_block(model, 3, 0, 3 * SAMPLE_BLOCK + 5)
    pieces = torch.cat([sample_block(model, 3, a, b) for a, b in [(0, 7), (7, 40), (40, 3 * SAMPLE_BLOCK + 5)]])
    assert torch.equal(whole, pieces)


def test_derived_seeds_depend_on_every_key_and_their_order():
    assert derive_seed(0, "a") == derive_seed(0, "a")
    assert len({derive_seed(0, "a"), derive_seed(0, "b"), derive_seed(1, "a"), derive_seed("a", 0)}) == 4
    assert 0 <= derive_seed("x") < 2**63
