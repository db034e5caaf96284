"""serving (see the README; grows with later issues)."""

if not __name__.startswith("skewless"):  # the repository folder imported under its own name
    raise ImportError(
        f"this folder is the package skewless{'' if __name__ == 'features' else '.' + __name__}; "
        f"import it as such (pip install -e . maps the repository's folders into the skewless namespace)"
    )

