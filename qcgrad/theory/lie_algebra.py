r"""The dynamical Lie algebra (DLA) of a circuit: closure, simple ideals, center, g-purities.

For a circuit U = V · Π_k exp(−iθ_k H'_k) (see :mod:`qcgrad.theory.heisenberg`) the reachable
unitaries form the group G = exp(g) of the DLA g = ⟨iH'_1, iH'_2, …⟩_Lie, the real span of
the generators closed under commutators. It is built with
``pennylane.liealg.lie_closure(..., pauli=True)``; when every generator is one Pauli word
the closure is a set of words (i[P, Q] = ±2PQ for anticommuting words) and qcgrad runs it
itself on bit masks, which lets it stop early: when the generators act irreducibly, leave no
bilinear form invariant and have a connected anticommutation graph (:func:`su_certificate`,
GF(2) linear algebra), every proper subalgebra of su(2ⁿ) they could generate is small (Dynkin's
maximal subalgebras; see also the classification of Pauli Lie algebras, Aguilar et al. 2024,
arXiv:2408.00081), so once the closure passes :func:`su_threshold` elements (4·2ⁿ for n ≥ 3)
the algebra is recognised as su(2ⁿ) without enumerating its 4ⁿ − 1 elements.

Every compact g is reductive: g = g_1 ⊕ … ⊕ g_m ⊕ z with simple ideals g_j and center z.
qcgrad finds z as the kernel of the adjoint map, then splits the rest by the eigenvalues of
the Killing form K(a, b) = Tr(ad_a ad_b) (on each simple ideal K is a multiple of the
Hilbert–Schmidt form), and checks each part against the (dimension, rank) pairs of the
compact simple algebras (su(k), so(k), sp(k), the exceptional ones); a part that matches none
is reported as not simple (``Ideal.simple = False``) and predictions refuse it.

The g-purity of a Hermitian operator X is P_g(X) = Σ_j Tr(B_j X)² over a Hilbert–Schmidt
orthonormal basis {B_j} of ig (Ragone et al. 2024): the squared norm of X's projection onto
the algebra. P_g(ρ) of the initial state and P_g(O) of the (conjugated) cost observable set
the variance in :mod:`qcgrad.theory.circuits`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from pennylane.liealg import lie_closure

from . import pauli
from .heisenberg import Reading, read_circuit
from .pauli import Sentence

#: Default bound on the DLA dimension; the closure stops with an error past it.
MAX_DIM = 4096
#: Above this dimension the adjoint representation (ideals, center) is not built.
MAX_ADJOINT_DIM = 600


@dataclass
class Ideal:
    """A simple ideal (or the center) of the DLA.

    Attributes
    ----------
    dim, rank : int
    kind : str
        ``"su(4)"``, ``"so(8)"``, ``"sp(2)"``, ``"u(1)^k"`` for the center, ``"?"`` when not recognised.
    simple : bool
    purity_state, purity_observable : float
        P_{g_j}(ρ) and P_{g_j}(O).
    coords : ndarray[dim, dim g] or None
        Orthonormal rows in the coordinates of ``DLA.basis`` (None for su(2^n) recognised early).
    """

    dim: int
    rank: int
    kind: str
    simple: bool
    purity_state: float = 0.0
    purity_observable: float = 0.0
    coords: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"dim": self.dim, "rank": self.rank, "kind": self.kind, "simple": self.simple,
                "purity_state": self.purity_state, "purity_observable": self.purity_observable}


@dataclass
class DLA:
    """The dynamical Lie algebra of a circuit and the purities of its state and observable.

    Attributes
    ----------
    n_qubits, dim : int
    full : bool
        g = su(2^n).
    ideals : list[Ideal]
        Simple ideals (largest first).
    center_dim : int
    purity_state, purity_observable : float
        P_g(ρ), P_g(O).
    observable_in_algebra, state_in_algebra : bool
        O ∈ ig ⊕ ℝ·1 (resp. ρ): the condition of the variance formulas.
    basis : ndarray[dim, W] or None
        Orthonormal rows (Σ_P q_P² = 1) over the words ``words``; B_j = Σ_P q_jP P / √2ⁿ.
    words : ndarray[W] of int64
    reading : Reading
        Generators, state and observable in the Heisenberg frame.
    adjoint : scipy.sparse matrix [dim, dim·dim] or None
        Row a is ad_{B_a} flattened ((ad_a)_{cb} = Tr(B_c · i[B_a, B_b])).
    notes : list[str]
    """

    n_qubits: int
    dim: int
    full: bool
    ideals: list[Ideal]
    center_dim: int
    purity_state: float
    purity_observable: float
    observable_in_algebra: bool
    state_in_algebra: bool
    basis: np.ndarray | None = field(default=None, repr=False)
    words: np.ndarray | None = field(default=None, repr=False)
    reading: Reading | None = field(default=None, repr=False)
    adjoint: Any = field(default=None, repr=False)
    notes: list[str] = field(default_factory=list)

    @property
    def abelian(self) -> bool:
        return self.center_dim == self.dim

    def to_dict(self) -> dict[str, Any]:
        return {"n_qubits": self.n_qubits, "dim": self.dim, "full": self.full, "abelian": self.abelian,
                "ideals": [i.to_dict() for i in self.ideals], "center_dim": self.center_dim,
                "purity_state": self.purity_state, "purity_observable": self.purity_observable,
                "observable_in_algebra": self.observable_in_algebra, "state_in_algebra": self.state_in_algebra,
                "notes": list(self.notes)}

    def summary(self) -> str:
        """One line per fact, for the CLI."""
        parts = " ⊕ ".join([i.kind for i in self.ideals] + ([f"u(1)^{self.center_dim}"] if self.center_dim else []))
        full = f" = su(2^{self.n_qubits}), full" if self.full else ""
        lines = [f"DLA: dim {self.dim}{full}"
                 f" ≅ {parts or '0'}",
                 f"P_g(ρ) = {self.purity_state:.6g}, P_g(O) = {self.purity_observable:.6g}; "
                 f"O ∈ ig: {self.observable_in_algebra}, ρ ∈ ig: {self.state_in_algebra}"]
        return "\n".join(lines + [f"note: {n}" for n in self.notes])

    # --- coordinates ------------------------------------------------------------------------

    def _frame(self) -> tuple[np.ndarray, np.ndarray, Reading]:
        """``(basis, words, reading)``, which the coordinate methods need."""
        if self.basis is None or self.words is None or self.reading is None:
            raise ValueError(f"this DLA (dim {self.dim}, full={self.full}) has no basis: su(2^n) is recognised "
                             "without one, so HS coordinates are not available")
        return self.basis, self.words, self.reading

    def coordinates(self, s: Sentence) -> np.ndarray:
        """HS coordinates ⟨B_j, X⟩ of an operator X = Σ x_P P (its projection onto ig)."""
        basis, words, _ = self._frame()
        return np.sqrt(2.0 ** self.n_qubits) * (basis @ _dense(s, words))

    def state_coordinates(self) -> np.ndarray:
        """⟨B_j, ρ⟩ = Σ_P q_jP Tr(Pρ) / √2ⁿ."""
        basis, words, reading = self._frame()
        t = pauli.expectations(words, reading.bloch, self.n_qubits)
        return basis @ t / np.sqrt(2.0 ** self.n_qubits)

    def ad(self, coords: np.ndarray) -> np.ndarray:
        """The matrix of ad_X = i[X, ·] on g for X with HS coordinates ``coords``."""
        m = self.dim
        return np.asarray(self.adjoint.T @ coords).reshape(m, m)


def _dense(s: Sentence, words: np.ndarray) -> np.ndarray:
    out = np.zeros(len(words))
    if not s:
        return out
    keys = np.fromiter(s, np.int64)
    vals = np.fromiter(s.values(), float)
    pos = np.searchsorted(words, keys)
    pos_ok = (pos < len(words)) & (words[np.minimum(pos, len(words) - 1)] == keys)
    out[pos[pos_ok]] = vals[pos_ok]
    return out


# --- closure -----------------------------------------------------------------------------

def _gf2_solve(rows: list[int], rhs: list[int], width: int) -> tuple[int, bool]:
    """(rank, solvable) of the GF(2) system ⟨row_k, J⟩ = rhs_k over ``width``-bit rows."""
    pivots: dict[int, tuple[int, int]] = {}  # pivot bit -> (row, rhs)
    solvable = True
    for row, b in zip(rows, rhs, strict=True):
        for bit in range(width - 1, -1, -1):
            if not (row >> bit) & 1:
                continue
            if bit in pivots:
                row, b = row ^ pivots[bit][0], b ^ pivots[bit][1]
            else:
                pivots[bit] = (row, b)
                break
        if row == 0 and b:
            solvable = False
    return len(pivots), solvable


def _connected(words: list[int], n: int) -> bool:
    """Whether the anticommutation graph of the words is connected."""
    arr = np.array(words, dtype=np.int64)
    reached = np.zeros(len(arr), dtype=bool)
    reached[0] = True
    frontier = [0]
    while frontier:
        i = frontier.pop()
        new = pauli.anticommute(arr[i], arr, n) & ~reached
        reached |= new
        frontier.extend(np.nonzero(new)[0].tolist())
    return bool(reached.all())


def su_certificate(words: list[int], n: int) -> bool:
    """Pauli-word generators whose algebra, once larger than :func:`su_threshold`, must be su(2ⁿ).

    Three checks, each a few lines of GF(2) algebra:

    - trivial commutant (the algebra acts irreducibly): a word commutes with every generator
      iff its symplectic vector is orthogonal to theirs, so the commutant is trivial iff the
      generators span GF(2)^{2n};
    - no invariant bilinear form (g ⊄ so(2ⁿ), sp(2ⁿ⁻¹)): an intertwiner J Pᵀ J⁻¹ = −P can be
      taken to be a Pauli word, and exists iff ⟨J, P⟩ = 1 + #Y(P) (mod 2) is solvable; the
      condition is preserved by commutators, so testing the generators suffices;
    - the generators' anticommutation graph is connected (no tensor-product split
      su(a) ⊕ su(b) on ℂ^a ⊗ ℂ^b, whose Pauli words each lie in one ideal).

    By Dynkin's classification the remaining proper irreducible subalgebras of su(d) are simple
    algebras in non-defining representations, of dimension below 3d.
    """
    mask = (1 << n) - 1
    # ⟨J, P⟩ = x_J·z_P + z_J·x_P: the row of P acting on J = (x_J, z_J) is (z_P, x_P).
    rows = [((w & mask) << n) | (w >> n) for w in words]
    rhs = [(1 + int(pauli.popcount((w >> n) & w & mask))) % 2 for w in words]
    rank, solvable = _gf2_solve(rows, rhs, 2 * n)
    return rank == 2 * n and not solvable and _connected(words, n)


def su_threshold(n: int) -> int:
    """Dimension past which a certified Pauli algebra is su(2ⁿ) (above n(2n+1) and 3·2ⁿ)."""
    return max(n * (2 * n + 1), 4 * 2 ** n)


def _word_closure(words: list[int], n: int, max_dim: int) -> tuple[list[int], bool]:
    """Closure of Pauli words: (words, full); stops early once :func:`su_certificate` proves su(2ⁿ)."""
    threshold = su_threshold(n)
    su = n > 1 and su_certificate(words, n)
    found = list(dict.fromkeys(words))
    index = set(found)
    arr = np.array(found + [0] * len(found), dtype=np.int64)
    i = 0
    while i < len(found):
        w = found[i]
        anti = pauli.anticommute(w, arr[: len(found)], n)
        for other in arr[: len(found)][anti]:
            x1, z1 = pauli.split(w, n)
            x2, z2 = pauli.split(int(other), n)
            new = pauli.key(x1 ^ x2, z1 ^ z2, n)
            if new not in index:
                index.add(new)
                found.append(new)
                if su and len(found) > threshold:
                    return found, True
                if len(found) > max_dim:
                    raise ValueError(f"the DLA has more than max_dim={max_dim} elements (the closure was stopped "
                                     f"there); raise max_dim= or use a smaller circuit")
                if len(found) > len(arr):
                    arr = np.concatenate([arr, np.zeros(len(arr), dtype=np.int64)])
                arr[len(found) - 1] = new
        i += 1
    return found, len(found) == 4 ** n - 1


def _closure(generators: list[Sentence], n: int, max_dim: int) -> tuple[list[Sentence], bool]:
    gens = [g for g in generators if g]
    if not gens:
        raise ValueError("the circuit has no parameterized gate: its DLA is {0}")
    if all(len(g) == 1 for g in gens):
        words, full = _word_closure([next(iter(g)) for g in gens], n, max_dim)
        return [{w: 1.0} for w in words], full
    bound = max_dim
    # lie_closure has no dimension bound of its own: cap its rounds instead and check after.
    out = lie_closure([pauli.to_pennylane(g, n) for g in gens], pauli=True, max_iterations=10_000)
    if len(out) > bound:
        raise ValueError(f"the DLA has {len(out)} > max_dim={max_dim} elements; raise max_dim= or use a smaller "
                         "circuit")
    index = {q: q for q in range(n)}
    elements = []
    for ps in out:
        s = {}
        for word, c in ps.items():
            s[pauli.key(*pauli.word_from_pennylane(word, index), n)] = complex(c)
        # lie_closure may return i·(Hermitian): rotate to real coefficients.
        phase = next(iter(s.values()))
        phase = phase / abs(phase)
        elements.append(pauli.clean({k: (c / phase).real for k, c in s.items()}))
    return elements, len(elements) == 4 ** n - 1


def _orthonormal(elements: list[Sentence]) -> tuple[np.ndarray, np.ndarray]:
    words = np.unique(np.fromiter((k for e in elements for k in e), np.int64))
    rows = np.stack([_dense(e, words) for e in elements])
    if all(len(e) == 1 for e in elements):
        return np.abs(rows) / np.abs(rows).sum(1, keepdims=True), words
    q, r = np.linalg.qr(rows.T)
    keep = np.abs(np.diag(r)) > 1e-10 * np.abs(np.diag(r)).max()
    return q[:, keep].T, words


def _adjoint(basis: np.ndarray, words: np.ndarray, n: int) -> sp.csr_matrix:
    """Rows vec(ad_a), (ad_a)_{cb} = q_c · icomm(q_a, q_b) / √2ⁿ.

    Built from the word-level table i[P, Q] = s_PQ R_PQ over the words W of the basis
    (products leaving W have no component on g and are dropped): ad_a = Q·M_a·Qᵀ with
    M_a[R, Q] = Σ_P q_aP s_PQ [R = R_PQ], sparse.
    """
    m, w = basis.shape
    p_idx, q_idx = (a.ravel() for a in np.meshgrid(np.arange(w), np.arange(w), indexing="ij"))
    keys, coef = pauli.icommutator(words[p_idx], words[q_idx], n)
    pos = np.minimum(np.searchsorted(words, keys), w - 1)
    keep = (coef != 0) & (words[pos] == keys)
    p_idx, q_idx, r_idx, coef = p_idx[keep], q_idx[keep], pos[keep], coef[keep]
    starts = np.searchsorted(p_idx, np.arange(w + 1))  # pairs are sorted by P
    scale = 1 / np.sqrt(2.0 ** n)
    rows, cols, vals = [], [], []
    for a in range(m):
        support = np.nonzero(basis[a])[0]
        sel = np.concatenate([np.arange(starts[p], starts[p + 1]) for p in support])
        if not len(sel):
            continue
        ma = sp.csr_matrix((basis[a, p_idx[sel]] * coef[sel], (r_idx[sel], q_idx[sel])), shape=(w, w))
        ad = basis @ np.asarray(ma @ basis.T) * scale  # [c, b]
        c_idx, b_idx = np.nonzero(np.abs(ad) > 1e-12)
        rows.append(np.full(len(c_idx), a))
        cols.append(c_idx * m + b_idx)
        vals.append(ad[c_idx, b_idx])
    if not rows:
        return sp.csr_matrix((m, m * m))
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(m, m * m))


# --- ideals ------------------------------------------------------------------------------

def _simple_kinds(dim: int, rank: int) -> list[str]:
    kinds = []
    if dim == (rank + 1) ** 2 - 1:
        kinds.append(f"su({rank + 1})")
    if rank >= 2 and dim == rank * (2 * rank + 1):
        kinds += [f"so({2 * rank + 1})", f"sp({rank})"]
    if rank >= 3 and dim == rank * (2 * rank - 1):
        kinds.append(f"so({2 * rank})")
    kinds += [name for name, d, r in (("g2", 14, 2), ("f4", 52, 4), ("e6", 78, 6), ("e7", 133, 7), ("e8", 248, 8))
              if (d, r) == (dim, rank)]
    return kinds


def _ideals(adjoint: sp.csr_matrix, m: int, rng: np.random.Generator) -> tuple[list[np.ndarray], np.ndarray]:
    """(simple-ideal coordinate bases, center basis), all orthonormal rows in g's coordinates."""
    gram = np.asarray((adjoint @ adjoint.T).todense())  # −K: positive semi-definite
    w, v = np.linalg.eigh(gram)
    tol = 1e-9 * max(w.max(), 1e-300)
    center = v[:, w <= tol].T
    order = np.argsort(w)[::-1]
    ideals, start = [], 0
    vals = w[order]
    positive = int((vals > tol).sum())
    while start < positive:
        stop = start + 1
        while stop < positive and abs(vals[stop] - vals[start]) <= 1e-7 * vals[start]:
            stop += 1
        ideals.append(v[:, order[start:stop]].T)
        start = stop
    return ideals, center


def _rank(adjoint: sp.csr_matrix, coords: np.ndarray, m: int, rng: np.random.Generator) -> int:
    x = coords.T @ rng.standard_normal(len(coords))
    ad = np.asarray(adjoint.T @ x).reshape(m, m)
    restricted = coords @ ad @ coords.T
    s = np.linalg.svd(restricted, compute_uv=False)
    return int(len(coords) - (s > 1e-8 * max(s.max(), 1e-300)).sum())


# --- public ------------------------------------------------------------------------------

def dla_from_reading(reading: Reading, max_dim: int = MAX_DIM, seed: int = 0) -> DLA:
    """The DLA of a circuit already read (see :func:`dla`)."""
    n = reading.n_qubits
    d = 2.0 ** n
    elements, full = _closure(reading.generators, n, max_dim)
    obs = {k: c for k, c in reading.observable.items() if k != 0}
    obs_total = d * pauli.norm2(obs)  # Tr(O²) − Tr(O)²/d
    state_total = 1.0 - 1.0 / d       # pure state: Tr(ρ²) − 1/d
    if full:
        ideal = Ideal(int(4 ** n - 1), 2 ** n - 1, f"su({2 ** n})", True, state_total, obs_total)
        return DLA(n, int(4 ** n - 1), True, [ideal], 0, state_total, obs_total, True, True, reading=reading,
                   notes=[] if len(elements) == 4 ** n - 1 else
                   [f"su(2^{n}) recognised after {len(elements)} elements (su_certificate)"])
    basis, words = _orthonormal(elements)
    out = DLA(n, len(basis), False, [], 0, 0.0, 0.0, False, False, basis, words, reading)
    xi_o, xi_r = out.coordinates(obs), out.state_coordinates()
    out.purity_observable, out.purity_state = float(xi_o @ xi_o), float(xi_r @ xi_r)
    out.observable_in_algebra = bool(abs(out.purity_observable - obs_total) <= 1e-9 * max(obs_total, 1.0))
    out.state_in_algebra = bool(abs(out.purity_state - state_total) <= 1e-9)
    if out.dim > MAX_ADJOINT_DIM:
        out.notes.append(f"dim {out.dim} > {MAX_ADJOINT_DIM}: ideals and center not computed")
        return out
    rng = np.random.default_rng(seed)
    out.adjoint = _adjoint(basis, words, n)
    simple, center = _ideals(out.adjoint, out.dim, rng)
    out.center_dim = len(center)
    for coords in simple:
        rank = _rank(out.adjoint, coords, out.dim, rng)
        kinds = _simple_kinds(len(coords), rank)
        out.ideals.append(Ideal(len(coords), rank, kinds[0] if kinds else "?", bool(kinds),
                                float(np.sum((coords @ xi_r) ** 2)), float(np.sum((coords @ xi_o) ** 2)), coords))
    out.ideals.sort(key=lambda i: -i.dim)
    if any(not i.simple for i in out.ideals):
        out.notes.append("a part of g with one Killing eigenvalue matches no simple algebra: it is a sum of "
                         "simple ideals that qcgrad could not split")
    return out


def dla(model, max_dim: int = MAX_DIM, seed: int = 0) -> DLA:
    """The dynamical Lie algebra of a circuit model, with the purities of its state and cost.

    Parameters
    ----------
    model : CircuitModel
        A circuit from :func:`qcgrad.quantum.circuit` (built-in ansatz or user circuit).
    max_dim : int
        Stop the closure with a ValueError once the algebra has more elements than this.
    seed : int
        Seed of the sample whose frozen structure is read (random_pauli draws each gate's
        axis per sample; the DLA is that of one draw, which for random_pauli at depth ≳ 2 is
        su(2^n) for almost every draw).

    Returns
    -------
    DLA

    Examples
    --------
    >>> import qcgrad as qg
    >>> g = dla(qg.quantum.circuit("hardware_efficient", n_qubits=3, n_layers=4))
    >>> g.dim, g.full
    (63, True)
    >>> dla(qg.quantum.circuit("tensor_product", n_qubits=4, cost="local")).abelian
    True
    """
    if isinstance(max_dim, bool) or not isinstance(max_dim, int) or max_dim < 1:
        raise ValueError(f"max_dim={max_dim!r} must be an int ≥ 1")
    if not hasattr(model, "cost_spec") or not hasattr(model, "_record"):
        raise TypeError(f"dla needs a circuit model from qcgrad.quantum.circuit, got {type(model).__name__}")
    return dla_from_reading(read_circuit(model, seed=seed), max_dim=max_dim, seed=seed)
