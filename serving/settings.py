"""Service settings from environment variables (prefix ``SKEWLESS_SERVE_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """What the service loads and how strict it is.

    Every field can be set from the environment, e.g. ``SKEWLESS_SERVE_BUNDLE=out/demo/bundle``.
    """

    model_config = SettingsConfigDict(env_prefix="SKEWLESS_SERVE_", extra="ignore")

    bundle: Optional[Path] = Field(None, description="Bundle directory to serve")
    max_batch_size: int = Field(1000, ge=1, description="Most rows in one batch request (more: 422 naming the limit)")
    max_body_bytes: int = Field(
        8 * 2 ** 20, ge=1, description="Largest request body read, in bytes (more: 413 naming the limit, before the "
        "body is read when Content-Length says so); keep it above max_batch_size rows of JSON")
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
