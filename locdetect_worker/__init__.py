"""locdetect: room detection for architectural blueprints, driven by S3 events over SQS."""

__version__ = "1.0.0"
