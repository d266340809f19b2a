"""``python -m mockviking`` is the ``mockviking`` command."""

from mockviking.cli import main

main(prog_name="mockviking")
