"""A real ``redis-server`` (the Debian package) on a free loopback port, in its own directory, for tests.

``scripts/test.sh`` installs the package when ``redis-server`` is missing.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """One ``redis-server`` process: no persistence, bound to 127.0.0.1 only. ``stop()`` kills it."""

    def __init__(self, directory: Path):
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server is missing: apt-get install -y redis-server (scripts/test.sh does)")
        directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = subprocess.Popen(
            [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(directory), "--save", "",
             "--appendonly", "no", "--protected-mode", "yes"],
            stdout=open(directory / "redis.log", "wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start: {(directory / 'redis.log').read_text()[-2000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    """A real redis-server for the tests of one module (import this fixture into the test module)."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "redis"])
def new_store(request, tmp_path):
    """``new_store()`` -> a fresh, empty online store of the parametrized kind (SQLite file, or its own
    namespace on this module's real ``redis_server``); all closed at the end of the test."""
    from skewless.state import RedisStore, SQLiteStore

    opened = []

    def new_store():
        if request.param == "sqlite":
            store = SQLiteStore(tmp_path / f"{uuid.uuid4().hex}.db")
        else:
            store = RedisStore(request.getfixturevalue("redis_server").url, namespace=f"t{uuid.uuid4().hex[:12]}:")
        opened.append(store)
        return store

    yield new_store
    for store in opened:
        store.close()

