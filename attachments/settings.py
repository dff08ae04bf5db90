"""The attachments' settings, from environment variables prefixed `SECRETARIAT_`; bad values fail at start-up."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MAX_BYTES = 25_000_000  # 25 MB: the largest agenda, minutes or report with scanned annexes seen


class AttachmentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SECRETARIAT_", extra="ignore", hide_input_in_errors=True)

    attachment_max_bytes: int = Field(DEFAULT_MAX_BYTES, ge=1, le=1 << 31,
                                      description="The largest file that may be attached to an item, in bytes")
