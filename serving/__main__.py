"""``python -m skewless.serving --bundle PATH [--host H] [--port P] [--workers N] [limits]``.

Arguments are validated before anything starts (``--port 99999`` is refused, not wrapped around),
and the bundle is loaded and checked once in this process first, so a bad bundle is a one-line
error naming the file (exit 2), not a traceback from inside uvicorn. The limits and timeouts are
the service's settings (``SKEWLESS_SERVE_*``, see :mod:`skewless.serving.settings`); the flags
override them.
"""

from __future__ import annotations

import argparse
import os
import sys

LIMIT_FLAGS = {  # flag -> setting (and the environment variable SKEWLESS_SERVE_<SETTING>)
    "--timeout-keep-alive": "timeout_keep_alive",
    "--header-timeout": "header_timeout",
    "--body-timeout": "body_timeout",
    "--max-header-bytes": "max_header_bytes",
    "--limit-concurrency": "limit_concurrency",
    "--backlog": "backlog",
}


def serve(bundle: str, host: str = "127.0.0.1", port: int = 8000, workers: int = 1, **limits: object) -> None:
    """Validate, check the bundle once, then start uvicorn (uvloop/httptools when installed)."""
    from pydantic import ValidationError

    from .settings import ServeArgs, Settings

    os.environ["SKEWLESS_SERVE_BUNDLE"] = str(bundle)
    for name, value in limits.items():
        if value is not None:
            os.environ[f"SKEWLESS_SERVE_{name.upper()}"] = str(value)
    try:
        args = ServeArgs(host=host, port=port, workers=workers)
        settings = Settings()
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        _fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5]))
    from skewless.bundle import BundleError

    from .bundle_loader import load_served_bundle

    try:
        load_served_bundle(settings.bundle, key=settings.bundle_key.get_secret_value() if settings.bundle_key else None,
                           udf_modules=settings.allowed_udf_modules)
    except BundleError as exc:
        _fail(str(exc))
    from .server import run

    run(settings, args)


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m skewless.serving", description="Serve a skewless bundle over HTTP")
    p.add_argument("--bundle", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    for flag, name in LIMIT_FLAGS.items():
        p.add_argument(flag, dest=name, type=float if "timeout" in name else int, default=None,
                       help=f"overrides SKEWLESS_SERVE_{name.upper()}")
    a = vars(p.parse_args(argv))
    serve(a.pop("bundle"), a.pop("host"), a.pop("port"), a.pop("workers"), **a)


if __name__ == "__main__":
    main()
