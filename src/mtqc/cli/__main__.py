"""`python -m mtqc.cli`: the same as the `mtqc` command."""
from .app import main

main()
