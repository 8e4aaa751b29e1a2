"""The bench summary: ratios to the same run's pgbench, the table's verdicts, the plot file."""
import bench.__main__ as bench_main
from bench.__main__ import plot, summary_table, with_ratios


def _rows():
    return [
        {"name": "x postings", "value": 3000, "unit": "postings/s", "target": ">= 2500", "ok": True},
        {"name": "x p99", "value": 40.0, "unit": "ms", "target": "< 25", "ok": False},
        {"name": "x pgbench -N (same run)", "value": 1500, "unit": "tps", "target": None, "ok": True},
    ]


def test_throughputs_are_compared_with_the_same_runs_pgbench():
    rows = with_ratios(_rows())
    assert [row["ratio_to_pgbench"] for row in rows] == [2.0, None, None]


def test_table_marks_misses_and_informative_rows():
    lines = summary_table(with_ratios(_rows())).splitlines()
    assert lines[1].endswith("ok") and "2.00x" in lines[1]
    assert lines[2].endswith("MISS")
    assert lines[3].endswith("-")


def test_plot_is_written(tmp_path):
    path = tmp_path / "summary.png"
    plot(with_ratios(_rows()), path)
    assert path.read_bytes().startswith(b"\x89PNG")


def test_a_benchmark_without_pgbench_uses_the_runs_measurement():
    rows = with_ratios([{"name": "y drained", "value": 600, "unit": "notifications/s", "target": ">= 500",
                         "ok": True}], fallback=1200)
    assert rows[0]["ratio_to_pgbench"] == 0.5


def test_only_a_run_of_every_benchmark_writes_the_summary(monkeypatch, tmp_path):
    """A part run prints its table and leaves the last whole run's summary (and its ratios) alone."""
    fake = {name: (lambda seconds, name=name: [{"name": f"{name} rate", "value": 1, "unit": "x/s", "target": None,
                                                "ok": True}]) for name in ("one", "two")}
    monkeypatch.setattr(bench_main, "BENCHMARKS", fake)
    monkeypatch.setattr(bench_main, "RESULTS", tmp_path)
    assert bench_main.main(["one"]) == 0 and not (tmp_path / "summary.txt").exists()
    assert bench_main.main([]) == 0
    assert "one rate" in (tmp_path / "summary.txt").read_text() and (tmp_path / "summary.png").exists()
