"""core.overlap: the helper thread of training's backward and forward passes, and the same numbers with it."""

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcli.core import overlap
from convcli.core.nn import DEFAULT_ARCH, build_model, softmax_cross_entropy
from convcli.core.optim import make_optimizer
from convcli.core.synthetic import make_shapes
from convcli.core.training import fit_epoch


def test_the_helper_lives_as_long_as_the_block():
    assert overlap.current() is None
    with overlap.overlapping():
        helper = overlap.current()
        assert helper is not None
        assert helper.thread.is_alive()
        with overlap.overlapping():  # nested: the same helper
            assert overlap.current() is helper
        ran: list[str] = []
        helper.submit(lambda: ran.append("done"))
        overlap.finish()
        assert ran == ["done"]
        assert helper.pending == []
    assert overlap.current() is None
    assert not helper.thread.is_alive()
    with overlap.overlapping(enabled=False):
        assert overlap.current() is None


def test_a_task_the_helper_has_not_started_runs_on_the_caller():
    # the helper is held on a first task; finish() then runs the second itself instead of waiting for the helper
    release, started = threading.Event(), threading.Event()
    ran_on: list[str] = []

    def hold() -> None:
        started.set()
        release.wait(10)

    with overlap.overlapping():
        helper = overlap.current()
        assert helper is not None
        helper.submit(hold)
        assert started.wait(10)
        helper.submit(lambda: ran_on.append(threading.current_thread().name))
        waiter = threading.Timer(0.2, release.set)
        waiter.start()
        helper.finish()
        waiter.join()
    assert ran_on == [threading.current_thread().name]


def test_an_error_on_the_helper_is_raised_where_the_result_is_wanted():
    def fail() -> None:
        raise ValueError("from the helper")

    with overlap.overlapping():
        helper = overlap.current()
        assert helper is not None
        helper.submit(fail)
        with pytest.raises(ValueError, match="from the helper"):
            helper.finish()


def _step(model, x, y):
    logits = model.forward(x)
    _, d, _ = softmax_cross_entropy(logits, y)
    model.backward(d)
    return logits.copy(), {k: v.copy() for k, v in model.gradients().items()}


@settings(max_examples=25, deadline=None)
@given(
    arch=st.sampled_from(
        [
            DEFAULT_ARCH,
            "conv3p1c4,relu,pool2,conv3p1c6,relu,pool2",
            "conv3p1c4,relu,conv3s2p1c6,relu,pool2",  # a strided convolution: its columns kept, col2im
            "conv5p2c4,relu,pool2,conv3p1c8g2,relu,conv3p1c4,relu,pool2",
            "conv3p1c4,relu,pool2,dwconv3p1,relu,conv1c6,relu,pool2",
        ]
    ),
    n=st.integers(1, 9),
    seed=st.integers(0, 2**16),
)
def test_the_helper_changes_no_number(arch, n, seed):
    # every output and gradient of a training step is the same with the helper as without: the weight gradients it
    # works out read the layer's kept columns and its own copy of dL/dO
    x, y = make_shapes(n, seed=seed % 97)
    model = build_model(arch, (1, 28, 28), 6, seed=seed)
    model.train(True)
    plain = _step(model, x, y)
    submitted = []
    with overlap.overlapping():
        helper = overlap.current()
        assert helper is not None
        submit = helper.submit
        helper.submit = lambda work: submitted.append(1) or submit(work)  # type: ignore[method-assign]
        helped = _step(model, x, y)
    assert submitted  # the helper was handed work: the comparison is not of one path with itself
    np.testing.assert_array_equal(helped[0], plain[0])
    for k, v in plain[1].items():
        np.testing.assert_array_equal(helped[1][k], v, err_msg=k)


def test_fit_epoch_uses_the_helper_only_with_a_second_core(monkeypatch):
    x, y = make_shapes(256, seed=0)
    x = (x - x.mean()) / x.std()
    made = []
    real = overlap.Helper

    class Counted(real):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            made.append(self)
            super().__init__()

    monkeypatch.setattr(overlap, "Helper", Counted)
    weights = []
    for cores in (1, 2):
        monkeypatch.setattr(overlap, "usable_cores", lambda cores=cores: cores)
        model = build_model(DEFAULT_ARCH, (1, 28, 28), 6, seed=0)
        result = fit_epoch(model, make_optimizer("adam", None), x, y, 64, 0, 0)
        assert len(made) == cores - 1
        weights.append((result.loss, model.parameters()))
    (loss1, p1), (loss2, p2) = weights
    assert loss1 == pytest.approx(loss2, rel=1e-5)
    for k in p1:
        np.testing.assert_allclose(p2[k], p1[k], rtol=1e-4, atol=1e-6)
