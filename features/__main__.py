"""``python -m skewless``: the command line (the package ``skewless.cli``, which sits above this library)."""

from skewless.cli import main

main()
