"""
The dynamical Lie algebra predicts the variance (Ragone et al. 2024; Fontana et al. 2024)
=========================================================================================

The gradient variance of a deep circuit is fixed by its dynamical Lie algebra g, the span of the
gate generators and their nested commutators. For a simple g, with the observable O or the
initial state ρ in ig, the deep-circuit limit is (Ragone et al., *Nat. Commun.* 15, 7172, 2024;
Fontana et al., *Nat. Commun.* 15, 7171, 2024)

.. math:: \\operatorname{Var}[C] = \\frac{P_{\\mathfrak g}(\\rho)\\, P_{\\mathfrak g}(O)}{\\dim \\mathfrak g},

summed over the simple ideals of a reductive g. A circuit whose g is the full su(2^n) (dimension
4^n − 1) has a barren plateau; one with a small algebra, like the free-fermion (matchgate) circuit
of RX and nearest-neighbour IsingZZ gates, whose g is so(2n) of dimension n(2n − 1), decays only
polynomially. The study lists the DLA of every built-in ansatz, then sets the measured variance
of deep circuits against the prediction.
"""
# %%
import matplotlib.pyplot as plt
import pennylane as qml

import qcgrad as qg
from qcgrad.plot import plot_series

study = qg.Study("dla", "DLA dimension vs n for every ansatz; measured vs predicted variance")
qubits = study.pick([2, 3, 4], [2, 3, 4, 5, 6])
n_samples = study.pick(400, 2000)


def free_fermion(n: int, n_layers: int):
    """RX on every qubit and IsingZZ on the chain, each gate its own angle; O = Z₀Z₁."""

    def matchgate_layer(angles, wires):
        for q in range(n):
            qml.RX(angles[q], wires=wires[q])
        for q in range(n - 1):
            qml.IsingZZ(angles[n + q], wires=[wires[q], wires[q + 1]])

    return qg.quantum.circuit(matchgate_layer, n_qubits=n, n_layers=n_layers, angles_per_layer=2 * n - 1,
                              cost=qml.Z(0) @ qml.Z(1))


# %%
# DLA dimension against n
# -----------------------
builders = {name: (lambda n, a=name: qg.quantum.circuit(a, n_qubits=n, n_layers=2, cost="zz"))
            for name in ("hardware_efficient", "random_pauli", "strongly_entangling", "alternating_layered",
                         "hva", "tensor_product")}
builders["free fermion (user circuit)"] = lambda n: free_fermion(n, 2)
dims = {name: {n: qg.theory.dla(build(n)).dim for n in qubits} for name, build in builders.items()}
for n in qubits:
    study.add(qg.claim_value(f"hardware_efficient, n={n}: dim g = 4^n − 1 (full su(2^n))", "Larocca et al. 2022",
                             4**n - 1, dims["hardware_efficient"][n], 0.0))
    study.add(qg.claim_value(f"free fermion, n={n}: dim g = n(2n−1) (so(2n))", "matchgates; Ragone et al. 2024",
                             n * (2 * n - 1), dims["free fermion (user circuit)"][n], 0.0))
    study.add(qg.claim_value(f"tensor product, n={n}: abelian, dim g = n", "Cerezo et al. 2021",
                             n, dims["tensor_product"][n], 0.0))

# %%
# Measured against predicted at depth 40
# --------------------------------------
depth = 40
ff_qubits = study.pick([4, 5], [4, 5, 6])
cost_scan = qg.scan(lambda n: free_fermion(n, depth), ff_qubits, n_samples=n_samples, seed=study.seed)
for n, est in zip(ff_qubits, cost_scan.estimates, strict=True):
    prediction = qg.theory.predict(free_fermion(n, depth), params="first")
    study.add(qg.claim_variance(f"free fermion, n={n}, L={depth}: Var[∂θ₀] = Lie-algebraic prediction",
                                "Ragone et al. 2024 (one-sided, so(2n))", prediction.variance, est))
he_qubits = study.pick([2, 3, 4], [2, 3, 4, 5, 6])
he_scan = qg.scan(lambda n: qg.quantum.circuit("hardware_efficient", n_qubits=n, n_layers=depth, cost="zz"),
                  he_qubits, n_samples=n_samples, seed=study.seed)
for row in he_scan.compare_theory():
    study.add(qg.claim_value(f"hardware_efficient, n={row['value']}, L={depth}: Var[∂θ₀] = su(2^n) prediction",
                             "McClean 2018; Ragone et al. 2024", row["predicted"], row["measured"], row["se"]))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
for name, by_n in dims.items():
    axes[0].semilogy(list(by_n), list(by_n.values()), "o-", label=name)
axes[0].set_xlabel("qubits n")
axes[0].set_ylabel("dim g")
axes[0].legend(fontsize=6)
plot_series(axes[1], cost_scan.records(), "free fermion (so(2n))")
plot_series(axes[1], he_scan.records(), "hardware efficient (su(2^n))")
axes[1].plot(ff_qubits, [qg.theory.predict(free_fermion(n, depth)).variance for n in ff_qubits], "k:", lw=1,
             label="Lie-algebraic prediction")
axes[1].plot(he_qubits, [row["predicted"] for row in he_scan.compare_theory()], "k:", lw=1)
axes[1].set_xlabel(f"qubits n (L = {depth})")
axes[1].set_ylabel("Var[∂C/∂θ₀]")
axes[1].legend(fontsize=7)
study.save_figure(fig)

# %%
study.finish({"dims": dims, "free_fermion": cost_scan.records(), "hardware_efficient": he_scan.records()})
