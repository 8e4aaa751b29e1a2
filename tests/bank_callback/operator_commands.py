"""Running ``python -m bank_callback <command>`` as an operator would, with this run's environment.

The CLI's ``main`` runs in-process (argparse, configuration from the environment, the command)
to keep the suite fast; the root logger it reconfigures is restored afterwards.
"""
import io
import logging
import os
from contextlib import redirect_stdout
from dataclasses import dataclass
from unittest import mock

from bank_callback.__main__ import main


@dataclass
class Outcome:
    returncode: int
    stdout: str


def run_command(infra, *args: str, **settings) -> Outcome:
    """Run ``python -m bank_callback *args`` with the service's environment for this run."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    output = io.StringIO()
    try:
        with mock.patch.dict(os.environ, infra.service_env("bank_callback", **settings)), redirect_stdout(output):
            code = main(list(args))
    finally:
        root.handlers[:], root.level = handlers, level
    return Outcome(code, output.getvalue())
