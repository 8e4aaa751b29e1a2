"""The command-line entry every service shares: ``python -m <service> <command>``.

``migrate`` is common to all; a service adds its own operator commands with :func:`command`.
"""
import argparse
import sys
from pathlib import Path
from typing import Callable

from shared.devkeys import generate
from shared.logs import configure_logging
from shared.migrations import migrate


def build_cli(service: str, load_config: Callable[[], dict], migrations_dir: Path,
              commands: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable]] | None = None):
    """Return a ``main(argv)`` for ``service``.

    ``commands`` maps a name to ``(help, add_arguments(parser), run(config, args) -> exit code)``.
    """

    def run_migrate(config, args) -> int:
        applied = migrate(config["DATABASE_URL"], migrations_dir)
        print(f"{service}: {len(applied)} migration(s) applied" + (f": {', '.join(applied)}" if applied else ""))
        return 0

    def run_keys(config, args) -> int:
        made = generate(config["KEYS_DIR"])
        print(f"{config['KEYS_DIR']}: " + (", ".join(made) if made else "every development key already there"))
        return 0

    table = {
        "migrate": ("create the database if needed and apply pending SQL migrations", lambda p: None, run_migrate),
        "keys": ("generate missing development RSA keys and secrets into KEYS_DIR (never for production)",
                 lambda p: None, run_keys),
    }
    table.update(commands or {})

    def main(argv: list[str] | None = None) -> int:
        parser = argparse.ArgumentParser(prog=f"python -m {service}", description=f"{service} operator commands")
        sub = parser.add_subparsers(dest="command", required=True)
        for name, (help_text, add_arguments, _) in table.items():
            add_arguments(sub.add_parser(name, help=help_text, description=help_text))
        args = parser.parse_args(argv)
        config = load_config()
        configure_logging(service, config.get("LOG_LEVEL", "INFO"))
        return table[args.command][2](config, args)

    return main


def run(main: Callable[[list[str] | None], int]) -> None:
    """Run a CLI ``main`` and exit with its code."""
    sys.exit(main(None))
