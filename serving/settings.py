"""Service settings from environment variables (prefix ``SKEWLESS_SERVE_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "ServeArgs"]


class Settings(BaseSettings):
    """What the service loads and how strict it is.

    Every field can be set from the environment, e.g. ``SKEWLESS_SERVE_BUNDLE=out/demo/bundle``.
    """

    model_config = SettingsConfigDict(env_prefix="SKEWLESS_SERVE_", extra="ignore")

    bundle: Optional[Path] = Field(None, description="Bundle directory to serve")
    bundle_key: Optional[SecretStr] = Field(
        None, description="HMAC key: when set, only bundles whose signature.json verifies with it are served "
        "(train signs with SKEWLESS_BUNDLE_KEY); see skewless.bundle.seal for what this does and does not protect")
    udf_modules: str = Field(
        "", description="Comma-separated modules whose udf functions the service may import: a bundle whose "
        "feature set calls a udf is refused unless every udf's module is listed here and each function's source "
        "still has the SHA-256 the bundle records (unset: bundles with udfs are refused; without udfs nothing is "
        "imported)")
    max_batch_size: int = Field(1000, ge=1, description="Most rows in one batch request (more: 422 naming the limit)")
    max_body_bytes: int = Field(
        8 * 2 ** 20, ge=1, description="Largest request body read, in bytes (more: 413 naming the limit, before the "
        "body is read when Content-Length says so); keep it above max_batch_size rows of JSON")
    max_row_bytes: int = Field(
        64 * 2 ** 10, ge=256, description="Largest body of a single-row request (/v1/predict, /v1/features), in "
        "bytes (more: 413 naming the limit, before anything is parsed: a flood of unknown keys costs nothing)")
    max_errors: int = Field(10, ge=1, le=1000, description="Validation errors listed in a 422 (the rest are counted "
                                                           "in a last item: \"and N more errors\")")
    fast_path: bool = Field(
        True, description="Answer valid single-row requests without FastAPI's routing (serving/fast_path.py); "
        "anything else, and every error, still goes through the FastAPI routes")
    unknown_fields: Literal["forbid", "ignore"] = Field(
        "forbid", description="Request fields not among the feature set's inputs: 422 (forbid) or dropped (ignore)")
    allow_non_finite: bool = Field(False, description="Accept NaN/inf for Float64 inputs (JSON has no NaN: off)")
    log_dir: Optional[Path] = Field(None, description="Served-feature log directory (unset: no log)")
    log_sample_rate: float = Field(1.0, ge=0.0, le=1.0, description="Fraction of served rows logged")
    log_max_queue: int = Field(10_000, ge=1, description="Log records waiting for the writer at most (more: dropped, counted)")
    log_max_file_bytes: int = Field(64 * 2 ** 20, ge=1, description="Size at which a log file is completed and a new one begun")
    drift_window: int = Field(10_000, ge=0, description="Served rows in the /metrics drift gauges' sliding window (0: no gauges)")
    log_max_files: Optional[int] = Field(None, ge=1, description="Complete log files kept (oldest deleted; unset: all)")
    store: Optional[str] = Field(
        None, description="Online store of the feature set's entity lookups: redis://HOST:PORT/DB (Redis), or "
        "sqlite:PATH / a file path (the embedded store); unset: the embedded store state.db in the bundle's "
        "directory (what skewless materialize and skewless demo write). Unused without lookups")
    store_timeout: float = Field(1.0, gt=0, le=60, description="Seconds one store operation may take; then the "
                                 "request answers 503 naming the store")

    # --- the HTTP server (uvicorn): limits and timeouts; serving/server.py applies them
    timeout_keep_alive: float = Field(5.0, gt=0, le=3600, description="Seconds an idle keep-alive connection is kept")
    header_timeout: float = Field(
        10.0, gt=0, le=3600, description="Seconds a client has to send a request's headers, from its first byte "
        "(or from connecting): slow-header (slowloris) connections are closed with 408")
    body_timeout: float = Field(
        30.0, gt=0, le=3600, description="Seconds a client has to send a request's body once the headers are in "
        "(slow bodies: 408 and closed)")
    max_header_bytes: int = Field(
        64 * 2 ** 10, ge=1024, le=2 ** 24, description="Largest request head (request line and headers) read; "
        "more: 431 and closed, before the rest is parsed")
    limit_concurrency: Optional[int] = Field(
        1000, ge=1, description="Connections and tasks at once (more: 503 at once, uvicorn's limit_concurrency); "
        "a worker also answers 503 and closes any connection over its file-descriptor limit (RLIMIT_NOFILE) "
        "less 64, so idle connections cannot take every descriptor")
    backlog: int = Field(2048, ge=1, le=65535, description="Pending connections the listening socket queues")


    @property
    def allowed_udf_modules(self) -> frozenset[str]:
        """``udf_modules`` as a set of module names."""
        from skewless.bundle.udfs import parse_modules

        return parse_modules(self.udf_modules)


class ServeArgs(BaseModel):
    """The arguments of ``skewless serve`` / ``python -m skewless.serving``, validated before anything starts."""

    model_config = ConfigDict(extra="forbid", strict=True)
    host: str = Field("127.0.0.1", min_length=1, max_length=255)
    port: int = Field(8000, ge=0, le=65535, description="TCP port (0: any free port)")
    workers: int = Field(1, ge=1, le=256)
