"""s32s: move folders between machines through Amazon S3."""

__version__ = "0.1.0"
