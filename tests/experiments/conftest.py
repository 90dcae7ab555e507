"""Fixtures of the experiment tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def scheduler():
    """A loopback LocalCluster of 2 worker processes, shared by a module's tests."""
    from dask.distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()
