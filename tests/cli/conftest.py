"""The viewer's fixtures, for the tests of ``evosim view``."""

from tests.viewer.conftest import _pygame, small_sim  # noqa: F401 (fixtures)
