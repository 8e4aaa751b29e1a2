"""Run benchmarks: ``python -m bench`` (all) or ``python -m bench ledger gateway lending``.

Each benchmark starts what it needs under gunicorn, warms up, measures, and answers rows
``{name, value, unit, target, ok}`` including ``pgbench`` measured in the same run. The summary
prints one table with each figure, its target and its ratio to that run's ``pgbench -N``
throughput (the PostgreSQL limit); a run of them all writes it with a plot under bench/results/summary.*,
a run of some leaves the summary alone (each benchmark writes its own bench/results/<name>.*).
"""
import argparse
import json
import sys
import time
from pathlib import Path

from bench import e2e, freezes, gateway, ledger, lending, user_center

BENCHMARKS = {"ledger": ledger.run, "gateway": gateway.run, "user_center": user_center.run, "e2e": e2e.run,
              "freezes": freezes.run, "lending": lending.run}
RESULTS = Path(__file__).resolve().parent / "results"


def pgbench_limit(rows: list[dict]) -> float | None:
    """The ``pgbench -N`` transactions/s among ``rows``, if measured."""
    return next((row["value"] for row in rows if "pgbench -N" in row["name"]), None)


def with_ratios(rows: list[dict], fallback: float | None = None) -> list[dict]:
    """Add ``ratio_to_pgbench``: a throughput divided by ``pgbench -N`` of the same benchmark, or of the
    same ``make bench`` run (``fallback``) for a benchmark that does not measure it itself."""
    limit = pgbench_limit(rows) or fallback
    for row in rows:
        rate = row["unit"].endswith("/s") and limit
        row["ratio_to_pgbench"] = round(row["value"] / limit, 2) if rate else None
    return rows


def summary_table(rows: list[dict]) -> str:
    """The rows as an aligned text table; informative rows (no target) are marked with '-'."""
    lines = [f"{'figure':<52} {'value':>12} {'unit':<18} {'target':<12} {'vs pgbench -N':>13}  verdict"]
    for row in rows:
        ratio = "" if row["ratio_to_pgbench"] is None else f"{row['ratio_to_pgbench']:.2f}x"
        verdict = "-" if row["target"] is None else ("ok" if row["ok"] else "MISS")
        lines.append(f"{row['name']:<52} {row['value']:>12,} {row['unit']:<18} {row['target'] or '':<12} "
                     f"{ratio:>13}  {verdict}")
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    """A bar per targeted figure: how far it is from its target (1.0 = exactly on target, higher is better)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    targeted = [row for row in rows if row["target"]]
    scores = []
    for row in targeted:
        comparison, target = row["target"].split()
        target = float(target)
        value = max(float(row["value"]), 1e-9)
        if comparison == "=":
            scores.append(1.0 if row["ok"] else 0.0)
        else:
            scores.append(value / target if comparison == ">=" else target / value)
    figure, axes = pyplot.subplots(figsize=(10, 0.45 * len(targeted) + 1.5))
    colours = ["#2e7d32" if row["ok"] else "#c62828" for row in targeted]
    axes.barh([row["name"] for row in targeted], scores, color=colours)
    axes.axvline(1.0, color="black", linewidth=1)
    axes.set_xlabel("share of target reached (1.0 = on target; latency and memory as target / value)")
    axes.invert_yaxis()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run: {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each measured phase")
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    measured = [BENCHMARKS[name](seconds=args.seconds) for name in args.names or BENCHMARKS]
    run_limit = next(filter(None, map(pgbench_limit, measured)), None)
    rows = [row for benchmark_rows in measured for row in with_ratios(benchmark_rows, run_limit)]
    table = summary_table(rows)
    print("\n" + table)
    if set(args.names or BENCHMARKS) != set(BENCHMARKS):
        # the summary is one whole run's table, its ratios to that run's pgbench; a part run keeps its own files
        print(f"\nwritten: {', '.join(f'{RESULTS / name}.txt' for name in args.names)} (the summary is a whole run's)")
        return 0
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "summary.txt").write_text(table + "\n")
    (RESULTS / "summary.json").write_text(json.dumps({"when": time.strftime("%Y%m%dT%H%M%S"), "rows": rows}, indent=2))
    plot(rows, RESULTS / "summary.png")
    print(f"\nwritten: {RESULTS / 'summary.txt'}, summary.json, summary.png")
    return 0  # a measurement, not a gate: misses are in the table


if __name__ == "__main__":
    sys.exit(main())
