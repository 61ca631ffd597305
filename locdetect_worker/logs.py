"""structlog set-up: JSON lines to stdout in production, readable lines on a terminal.

Job handlers bind ``job_id``, ``bucket``, ``key`` and ``message_id`` with
``structlog.contextvars`` so every line about a job carries them.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog


def configure_logging(
    log_format: str = "auto", level: str = "INFO", stream: TextIO | None = None
) -> None:
    """``log_format``: ``json``, ``console`` or ``auto`` (console on a TTY, else JSON).

    Logs go to ``stream``: by default stdout for JSON (the container log stream)
    and stderr for console output.
    """
    console = log_format == "console" or (log_format == "auto" and sys.stderr.isatty())
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
        if console
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(
            file=stream or (sys.stderr if console else sys.stdout)
        ),
        cache_logger_on_first_use=False,
    )
    # botocore and friends log through the standard library; keep them quiet but visible.
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
