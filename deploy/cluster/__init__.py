"""The multi-machine topology of deploy/README.md on one machine (127.0.0.1): `make cluster`
starts it for a person, tests/integration/test_cluster.py and bench/load.py start the same
one. See deploy/README.md, "The cluster proof"."""

from deploy.cluster.topology import WORKER_KINDS, Cluster, Options

__all__ = ["WORKER_KINDS", "Cluster", "Options"]
