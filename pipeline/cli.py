"""``python -m pipeline COMMAND ...``: one module per command in ``pipeline/commands/``.

Each command module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.
Errors that users can fix (bad input files, bad config, out-of-range options, unwritable outputs) are raised
as :class:`UserError` (or the subclasses in ``pipeline.errors``), ``ValueError`` or ``OSError`` and printed as
one ``error:`` line with exit code 2, without a traceback (set ``SHOPPER_DEBUG=1`` to see it).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys

from pipeline import commands
from pipeline.errors import UserError


def _command_modules() -> list:
    modules = [
        importlib.import_module(f"{commands.__name__}.{info.name}")
        for info in pkgutil.iter_modules(commands.__path__)
        if not info.name.startswith("_")
    ]
    return sorted(modules, key=lambda m: getattr(m, "ORDER", 100))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline", description="Shopper ReID: offline footage processing and analytics."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _command_modules():
        cmd = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def show_pipeline_logs() -> None:
    """Print the pipeline's INFO messages (chosen input size, embedder) as plain lines on stderr."""
    logger = logging.getLogger("pipeline")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line (some libraries' messages span several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    show_pipeline_logs()
    try:
        return int(args._run(args) or 0)
    except (UserError, ValueError, OSError) as exc:
        # Argument checks raise ValueError naming the value and its range (STYLE §4), and a file that cannot
        # be read or written raises OSError naming it: user errors here.
        if os.environ.get("SHOPPER_DEBUG"):
            raise
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: committed work is kept; run the same command again to finish", file=sys.stderr)
        return 130
