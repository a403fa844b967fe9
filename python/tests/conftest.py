"""Shared fixtures: seeded RNGs and the backends under test."""

import os

import numpy as np
import pytest

import qshade


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def _gpu_or_skip(precision="f32"):
    if os.environ.get("QSHADE_TEST_GPU", "1") == "0":
        pytest.skip("QSHADE_TEST_GPU=0")
    try:
        return qshade.gpu(precision)
    except qshade.QShadeError as e:  # no adapter on this machine
        pytest.skip(f"no GPU adapter: {e}")


@pytest.fixture(params=["cpu-f64", "reference", "gpu-f32"])
def backend_and_tol(request):
    """(backend, absolute tolerance of its values)."""
    if request.param == "cpu-f64":
        return qshade.cpu(), 1e-10
    if request.param == "reference":
        return qshade.reference(), 1e-10
    return _gpu_or_skip(), 2e-5
