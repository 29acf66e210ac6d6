"""Property-based tests (hypothesis) of the invariants users rely on.

Each property is exact (bitwise or to rounding), so no statistical band is involved; the
example counts are kept small so the file runs in seconds.
"""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from toy_models import SineModel

import qcgrad as qg
from qcgrad.gradients import parse_params, resolve_params
from qcgrad.stats import fit_decay, summarize

# derandomize: the same examples on every run, so CI is reproducible (fixed seeds, as every Monte-Carlo test)
FAST = settings(max_examples=25, deadline=None, database=None, derandomize=True)
MODEL = SineModel((1.0, 0.5, 0.25))


@FAST
@given(seed=st.integers(0, 2**63 - 1), n=st.integers(2, 90), data=st.data())
def test_same_seed_same_samples_for_any_prefix_and_chunk_size(seed, n, data):
    prefix = data.draw(st.integers(1, n), label="prefix")
    chunk = data.draw(st.integers(1, n), label="chunk_size")
    whole = qg.per_sample_gradients(MODEL, n, seed, "all", chunk_size=chunk)
    short = qg.per_sample_gradients(MODEL, prefix, seed, "all")
    assert torch.equal(whole[:prefix], short)
    # Extending a run (adaptive mode) continues the same stream.
    rest = qg.per_sample_gradients(MODEL, n - prefix, seed, "all", start=prefix) if n > prefix else whole[:0]
    assert torch.equal(torch.cat([short, rest]), whole)


def _gradients(seed, s, k):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(s, k, generator=g, dtype=torch.float64) * torch.rand(1, k, generator=g, dtype=torch.float64)


@FAST
@given(seed=st.integers(0, 10**6), s=st.integers(2, 40), k=st.integers(1, 3), perm_seed=st.integers(0, 10**6))
def test_statistics_are_exactly_invariant_to_sample_order(seed, s, k, perm_seed):
    # summarize works on a canonical row order, so a permuted sample gives bitwise the same
    # variance, SE, kurtosis and bootstrap interval (the bootstrap's counts meet the same rows).
    x = _gradients(seed, s, k)
    perm = torch.randperm(s, generator=torch.Generator().manual_seed(perm_seed))
    a, b = summarize(x, range(k), n_boot=200), summarize(x[perm], range(k), n_boot=200)
    assert (a.variance, a.ci, a.se, a.mean) == (b.variance, b.ci, b.se, b.mean)
    assert a.kurtosis == b.kurtosis or (math.isnan(a.kurtosis) and math.isnan(b.kurtosis))


@FAST
@given(scale_exp=st.integers(-250, 150), seed=st.integers(0, 1000))
def test_statistics_scale_with_the_gradients(scale_exp, seed):
    # Var(c·g) = c²·Var(g) and SE/Var is scale free, for c from 1e-125 (Var 1e-250) to 1e75.
    x = _gradients(seed, 30, 1)
    c = 10.0 ** (scale_exp / 2)
    a, b = summarize(x, [0], n_boot=100), summarize(x * c, [0], n_boot=100)
    assert b.variance == pytest.approx(a.variance * c * c, rel=1e-12)
    assert b.rel_err == pytest.approx(a.rel_err, rel=1e-12)


@FAST
@given(rate=st.floats(0.05, 5.0), log_c=st.floats(-20, 5), n=st.integers(3, 10), step=st.integers(1, 4),
       kind=st.sampled_from(["exponential", "power"]))
def test_fits_of_exact_decays_recover_their_rate(rate, log_c, n, step, kind):
    x = np.arange(1, n + 1) * step
    t = x if kind == "exponential" else np.log(x)
    fit = fit_decay(x, np.exp(log_c - rate * t), kind=kind)
    assert fit.rate == pytest.approx(rate, rel=1e-8, abs=1e-10)
    assert fit.rate_ci[0] <= fit.rate <= fit.rate_ci[1]


@FAST
@given(picks=st.lists(st.integers(0, 224), min_size=1, max_size=6, unique=True))
def test_any_list_of_indices_selects_exactly_those_and_parses_from_text(picks):
    net = qg.classical.mlp(depth=4, width=8)  # 225 parameters
    assert resolve_params(net, picks).tolist() == picks
    assert parse_params(",".join(map(str, picks))) == (picks if len(picks) > 1 else picks[0])


BAD_KNOBS = [
    (lambda v: qg.classical.mlp(depth=v, width=4), "depth"),
    (lambda v: qg.classical.mlp(depth=2, width=v), "width"),
    (lambda v: qg.classical.tower(depth=v), "depth"),
    (lambda v: qg.classical.rnn(seq_len=v), "seq_len"),
    (lambda v: qg.classical.resnet(depth=v), "depth"),
    (lambda v: qg.quantum.circuit("hardware_efficient", n_qubits=v, n_layers=1), "n_qubits"),
    (lambda v: qg.quantum.circuit("random_pauli", n_qubits=2, n_layers=v), "n_layers"),
]


@settings(max_examples=20, deadline=None, database=None, derandomize=True)
@given(case=st.sampled_from(BAD_KNOBS), value=st.one_of(st.integers(-10, 0), st.floats(0.5, 3.5), st.just(True)))
def test_bad_size_knobs_raise_value_error_naming_the_knob(case, value):
    build, knob = case
    if isinstance(value, float) and value.is_integer():
        value += 0.5
    with pytest.raises(ValueError, match=knob):
        build(value)
