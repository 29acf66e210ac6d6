"""Float knobs of every builder: NaN and ±inf are refused with the knob named (no NaN results)."""
import pytest

import qcgrad as qg

NAN, INF = float("nan"), float("inf")
CASES = [
    (qg.classical.tower, dict(depth=3, x=NAN), "x=nan"),
    (qg.classical.tower, dict(depth=3, x=INF), "x=inf"),
    (qg.classical.tower, dict(depth=3, activation="linear", slope=NAN), "slope=nan"),
    (qg.classical.tower, dict(depth=3, std=NAN), "std=nan"),
    (qg.classical.tower, dict(depth=3, x="1"), "x='1'"),
    (qg.classical.mlp, dict(depth=3, std=INF, init="normal"), "std=inf"),
    (qg.classical.resnet, dict(depth=2, std=NAN), "std=nan"),
    (qg.classical.densenet, dict(depth=2, std=-INF), "std=-inf"),
    (qg.classical.unet, dict(depth=2, std=NAN), "std=nan"),
    (qg.classical.rnn, dict(seq_len=3, input_scale=NAN), "input_scale=nan"),
    (qg.classical.rnn, dict(seq_len=3, spectral_radius=INF), "spectral_radius=inf"),
    (qg.classical.lstm, dict(seq_len=3, forget_bias=NAN), "forget_bias=nan"),
    (qg.classical.gru, dict(seq_len=3, update_bias=-INF), "update_bias=-inf"),
    (qg.classical.transformer, dict(depth=1, temperature=NAN), "temperature=nan"),
]


@pytest.mark.parametrize("build, knobs, match", CASES, ids=[c[2] for c in CASES])
def test_non_finite_knob_is_refused(build, knobs, match):
    with pytest.raises(ValueError, match=f"{match} is not allowed"):
        build(**knobs)


def test_finite_negative_input_and_slope_are_allowed():
    assert qg.classical.tower(depth=2, activation="linear", x=-2.0, slope=-0.5).describe()["x"] == -2.0
