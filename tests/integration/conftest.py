"""pytest fixtures: a fresh moat per module (`moat`) or per test (`fresh_moat`)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from moat_harness import Moat  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
    config.addinivalue_line("markers", "needs_postgres: needs MOAT_TEST_PG_URL")
    config.addinivalue_line("markers", "needs_node: needs node and npm")


@pytest.fixture(scope="module")
def moat():
    m = Moat()
    yield m
    m.close()


@pytest.fixture
def fresh_moat():
    made = []

    def make(**kw):
        m = Moat(**kw)
        made.append(m)
        return m

    yield make
    for m in made:
        m.close()
