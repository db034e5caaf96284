"""``python -m skewless.serving --bundle PATH [--host H] [--port P] [--workers N]``."""

from __future__ import annotations

import argparse
import os


def serve(bundle: str, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Start uvicorn (uvloop/httptools are used when installed: uvicorn's "auto")."""
    import uvicorn

    os.environ["SKEWLESS_SERVE_BUNDLE"] = str(bundle)
    uvicorn.run("skewless.serving.app:app_from_env", factory=True, host=host, port=port, workers=workers)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m skewless.serving", description="Serve a skewless bundle over HTTP")
    p.add_argument("--bundle", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    a = p.parse_args(argv)
    serve(a.bundle, a.host, a.port, a.workers)


if __name__ == "__main__":
    main()
