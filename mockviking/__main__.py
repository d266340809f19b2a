"""``python -m mockviking`` is the ``mockviking`` command."""

from .cli import main

main(prog_name="mockviking")
