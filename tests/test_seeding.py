import torch
from toy_models import SineModel

from qcgrad.seeding import SAMPLE_BLOCK, derive_seed, sample_block


def test_any_split_of_the_stream_gives_the_same_rows():
    model = SineModel((1.0, 2.0))
    whole = sample_block(model, 3, 0, 3 * SAMPLE_BLOCK + 5)
    pieces = torch.cat([sample_block(model, 3, a, b) for a, b in [(0, 7), (7, 40), (40, 3 * SAMPLE_BLOCK + 5)]])
    assert torch.equal(whole, pieces)


def test_derived_seeds_depend_on_every_key_and_their_order():
    assert derive_seed(0, "a") == derive_seed(0, "a")
    assert len({derive_seed(0, "a"), derive_seed(0, "b"), derive_seed(1, "a"), derive_seed("a", 0)}) == 4
    assert 0 <= derive_seed("x") < 2**63


def test_derived_seeds_are_pinned_so_results_reproduce_across_versions():
    # Golden values of the documented recipe (blake2b-64 of repr(keys), little-endian, shifted to
    # 63 bits): a change to the recipe silently changes every stored result, so it must fail here.
    assert derive_seed(0) == 2631537505891389924
    assert derive_seed(7, "n_qubits=4", 3) == 2493162050935858331


def test_block_b_is_drawn_from_its_own_derived_generator():
    # The documented contract, checked against model.sample_params directly: rows 30..69 are the
    # tail of block 0, all of block 1 and the head of block 2, each block from derive_seed(seed, b).
    model = SineModel((1.0, 2.0))
    blocks = [model.sample_params(torch.Generator().manual_seed(derive_seed(5, b)), SAMPLE_BLOCK) for b in range(3)]
    expected = torch.cat(blocks)[30:70]
    assert torch.equal(sample_block(model, 5, 30, 70), expected)
    assert torch.equal(sample_block(model, 5, 64, 65), blocks[2][:1])


def test_an_empty_range_has_no_rows_and_the_models_width():
    model = SineModel((1.0, 2.0, 3.0))
    for start in (0, SAMPLE_BLOCK, 5):
        assert sample_block(model, 0, start, start).shape == (0, 3)
    assert sample_block(model, 0, 9, 4).shape == (0, 3)
