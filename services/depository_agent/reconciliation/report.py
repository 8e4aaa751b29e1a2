"""How a run shows itself: progress on stderr while it works, then a CSV and a readable summary."""
import csv
import time
from collections import Counter

from depository_agent.reconciliation.compare import REPAIRED, describe

CSV_COLUMNS = ("request_no", "service_name", "user_no", "category", "kind", "action", "detail",
               "bank", "agent", "user_center", "ledger")


class Progress:
    """Counts the items of a phase: a live counter on a terminal, a line every ``every`` items otherwise."""

    def __init__(self, stream, every: int = 500):
        self.stream = stream
        self.every = max(1, every)
        self.tty = stream.isatty()
        self.label, self.total, self.done, self.shown_at = "", 0, 0, 0.0

    def note(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def start(self, label: str, total: int) -> None:
        self.label, self.total, self.done, self.shown_at = label, total, 0, 0.0

    def tick(self) -> None:
        self.done += 1
        if self.tty:
            now = time.monotonic()
            if now - self.shown_at >= 0.1 or self.done == self.total:
                self.shown_at = now
                print(f"\r  {self.label}: {self.done}/{self.total}", end="", file=self.stream, flush=True)
        elif self.done % self.every == 0:
            self.note(f"  {self.label}: {self.done}/{self.total}")

    def finish(self) -> None:
        if self.total == 0:
            return
        if self.tty:
            print(file=self.stream, flush=True)
        elif self.done % self.every:
            self.note(f"  {self.label}: {self.done}/{self.total}")


def write_csv(path: str, result) -> int:
    """Write one row per finding (differences and notes); returns the number of rows."""
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for item, finding in result.rows():
            writer.writerow({"request_no": item.request_no, "service_name": item.service_name,
                             "user_no": item.user_no, "category": finding.category,
                             "kind": "difference" if finding.is_difference else "info",
                             "action": finding.action, "detail": finding.detail, **describe(item)})
            count += 1
    return count


def summary(result, timezone: str, csv_path: str) -> str:
    """The operator's summary of a run."""
    lines = [f"Reconciliation of {result.day.isoformat()} ({timezone})"]
    lines += [f"  {name:<22}{count:>8}" for name, count in result.counts.items()]
    differences = Counter((finding.category, finding.action) for _, finding in result.rows() if finding.is_difference)
    notes = Counter(finding.category for _, finding in result.rows() if not finding.is_difference)
    lines.append(f"Differences found: {sum(differences.values())}")
    lines += [f"  {category:<24}{action:<15}{count:>6}" for (category, action), count in sorted(differences.items())]
    if notes:
        lines.append("Notes (not differences): " + ", ".join(f"{name} {count}" for name, count in sorted(notes.items())))
    repaired = sum(count for (_, action), count in differences.items() if action == REPAIRED)
    lines.append(f"Repaired and verified: {repaired}; remaining differences: {result.remaining}")
    lines.append(f"CSV: {csv_path}")
    lines.append("RESULT: clean" if result.remaining == 0 else f"RESULT: {result.remaining} difference(s) remain")
    return "\n".join(lines)
