"""``locdetect-worker``: the command line. Each sub-command is a thin shell over a module."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from locdetect_worker import __version__
from locdetect_worker.config import ConfigError, Settings, load_settings
from locdetect_worker.logs import configure_logging

Command = Callable[[argparse.Namespace, Settings], int]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, tool_arguments = parser.parse_known_args(argv)
    if tool_arguments and not getattr(args, "parses_own_arguments", False):
        parser.error(f"unrecognized arguments: {' '.join(tool_arguments)}")
    args.tool_arguments = tool_arguments
    try:
        settings = load_settings()
        return int(args.command(args, settings))
    except ConfigError as exc:
        print(f"locdetect-worker: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="locdetect-worker",
        description="Room detection for blueprints: an SQS-driven worker and its tools. "
        "Configuration comes from LOCDETECT_* environment variables (see the README).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the worker daemon (SQS -> backend -> results)")
    run.set_defaults(command=cmd_run)

    detect = commands.add_parser(
        "detect", help="detect rooms in local files; one result document per file (JSON Lines)"
    )
    detect.add_argument("files", nargs="+", type=Path, metavar="FILE")
    detect.add_argument("--overlay", type=Path, metavar="DIR", help="write <name>.overlay.png here")
    detect.set_defaults(command=cmd_detect)

    local = commands.add_parser(
        "local", help="run the worker against an embedded AWS emulator (development)"
    )
    local.add_argument(
        "--data",
        type=Path,
        default=Path("local-data"),
        help="folder holding inbox/ and outbox/ (default: ./local-data)",
    )
    local.add_argument(
        "--demo",
        action="store_true",
        help="run the bundled sample plans through, print a summary and exit",
    )
    local.add_argument(
        "--backend",
        choices=["local", "sagemaker"],
        default=None,
        help="backend to use (default: LOCDETECT_BACKEND, i.e. local)",
    )
    local.set_defaults(command=cmd_local)

    health = commands.add_parser("health", help="exit 0 when the daemon made progress recently")
    health.set_defaults(command=cmd_health)

    _add_optional_commands(commands)
    return parser


def _add_optional_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``eval`` and ``replay`` parse their own arguments: their modules (scipy, the detector,
    the AWS clients) load only when they run, so ``health`` probes start fast."""
    evaluate = commands.add_parser(
        "eval",
        add_help=False,
        help="score the detector against labelled plans (<stem>.gt.png beside each)",
    )
    evaluate.set_defaults(command=cmd_eval, parses_own_arguments=True)
    replaying = commands.add_parser(
        "replay", add_help=False, help="send work through the queue again"
    )
    replaying.set_defaults(command=cmd_replay, parses_own_arguments=True)


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from locdetect_worker import evaluation

    parser = argparse.ArgumentParser(
        prog="locdetect-worker eval",
        description="Score the detector against labelled plans (<stem>.gt.png beside each).",
    )
    evaluation.add_eval_arguments(parser)
    return evaluation.run_eval(parser.parse_args(args.tool_arguments))


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    from locdetect_worker import replay

    parser = argparse.ArgumentParser(
        prog="locdetect-worker replay", description="Send work through the queue again."
    )
    replay.add_replay_arguments(parser)
    return replay.run_replay(parser.parse_args(args.tool_arguments), settings)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    import anyio

    from locdetect_worker.daemon import run_worker

    configure_logging(settings.log_format, settings.log_level)
    anyio.run(run_worker, settings)
    return 0


def cmd_detect(args: argparse.Namespace, settings: Settings) -> int:
    from locdetect_worker.local_files import detect_files

    configure_logging(settings.log_format, settings.log_level, stream=sys.stderr)
    return detect_files(args.files, settings, args.overlay, sys.stdout)


def cmd_local(args: argparse.Namespace, settings: Settings) -> int:
    import anyio

    from locdetect_worker.local_mode import run_local

    configure_logging(settings.log_format, settings.log_level, stream=sys.stderr)
    backend = args.backend or settings.backend
    return anyio.run(run_local, settings, args.data, args.demo, backend)


def cmd_health(args: argparse.Namespace, settings: Settings) -> int:
    from locdetect_worker import health

    ok, message = health.check(settings)
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
