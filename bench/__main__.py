"""Run benchmarks: ``python -m bench`` (all) or ``python -m bench ledger``; results go to bench/results/."""
import argparse
import sys

from bench import ledger

BENCHMARKS = {"ledger": ledger.main}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run: {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each measured phase")
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    failed = 0
    for name in args.names or BENCHMARKS:
        failed += BENCHMARKS[name](seconds=args.seconds)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
