import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))

import perchtest  # noqa: E402


@pytest.fixture
def tmp(tmp_path):
    return str(tmp_path)


@pytest.fixture
def fault_origin():
    o = perchtest.FaultOrigin()
    yield o
    o.stop()


@pytest.fixture
def proxies():
    """Starts perch-proxy processes for a test and stops them after it."""
    started = []

    def start(*args, **kwargs):
        p = perchtest.Proxy(*args, **kwargs)
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


@pytest.fixture
def nginx_origins():
    started = []

    def start(*args, **kwargs):
        n = perchtest.Nginx(*args, **kwargs)
        started.append(n)
        return n

    yield start
    for n in started:
        n.stop()
