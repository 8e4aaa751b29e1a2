"""``python -m chaos [--recharges N --withdraws N ...]``: run the fault campaign, print its figures,
write them to chaos/results/, exit 1 on any loss, double or other violation."""
import logging
import signal
import sys

from chaos import campaign, options, report


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    chosen = options.parse(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # SIGTERM unwinds like Ctrl-C, so the stack, databases and vhost are removed on the way out
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    figures = campaign.run(chosen, argv)
    print(report.as_text(figures), end="")
    print(f"figures written to {chosen.results_dir}/{chosen.results_name}.json and .txt")
    return 0 if figures["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
