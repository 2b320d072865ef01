"""``python -m training_rp`` is the same as the ``training-rp`` command."""

from training_rp.cli import main

main()
