"""Each cost's diagonal equals the matrix of its PennyLane observable."""
import pennylane as qml
import pytest
import torch

from qcgrad.quantum.costs import GLOBAL, LOCAL, ZZ


@pytest.mark.parametrize("cost", [ZZ, GLOBAL, LOCAL])
@pytest.mark.parametrize("n", [2, 3])
def test_diagonal_matches_observable_matrix(cost, n):
    wires = list(range(n))
    m = torch.as_tensor(qml.matrix(cost.observable(wires), wire_order=wires))
    torch.testing.assert_close(m, torch.diag(cost.diagonal(n)).to(m.dtype), atol=1e-15, rtol=0)
