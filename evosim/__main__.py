"""``python -m evosim``: the command line (same as ``evosim``)."""

from evosim.cli.main import main

main()
