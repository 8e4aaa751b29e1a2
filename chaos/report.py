"""The campaign's figures: counted from the journal, the injector and the bank's delivery log, written
as JSON and as text under chaos/results/."""
import json
from pathlib import Path

import psycopg

from chaos.environment import Environment
from chaos.workload import ABANDON, FAIL, NETSAVE, RECHARGE, SUCCESS, WITHDRAW, Traffic


def request_figures(traffic: Traffic) -> dict:
    """How many requests of each kind ended how (by the bank's books)."""
    figures = {"accounts_opened": len(traffic.users), "huifu_customers": len(traffic.customers)}
    for kind, name in ((RECHARGE, "recharges"), (WITHDRAW, "withdraws"), (NETSAVE, "netsaves")):
        mine = [request for request in traffic.journal.requests if request.kind == kind]
        figures[name] = len(mine)
        figures[f"{name}_success"] = sum(1 for request in mine if request.truth == SUCCESS)
        figures[f"{name}_failed"] = sum(1 for request in mine if request.truth == FAIL)
        if kind != NETSAVE:
            figures[f"{name}_abandoned"] = sum(1 for request in mine if request.intent == ABANDON)
    figures.update(sorted(traffic.journal.counts.items()))
    return figures


def bank_fault_figures(env: Environment) -> dict:
    """Faults the bank sandbox actually committed, from its attempt log."""
    with psycopg.connect(env.infra.database_url("bank_sandbox")) as conn:
        kinds = dict(conn.execute("select kind, count(*) from delivery_attempts group by kind").fetchall())
        deliveries = conn.execute("select count(*) from deliveries").fetchone()[0]
        firsts = [row[0] for row in conn.execute(
            "select delivery_id from delivery_attempts where attempt = 1 and kind <> 'duplicate' order by id")]
        retried = conn.execute("select count(*) from deliveries where attempts > 1").fetchone()[0]
    highest, reordered = 0, 0
    for delivery_id in firsts:  # a first attempt after that of a younger delivery was sent out of order
        if delivery_id < highest:
            reordered += 1
        highest = max(highest, delivery_id)
    return {"bank_notifications": deliveries, "duplicate_deliveries": kinds.get("duplicate", 0),
            "dropped_first_attempts": kinds.get("drop", 0), "deliveries_out_of_order": reordered,
            "deliveries_retried": retried, "delivery_attempts_sent": kinds.get("send", 0)}


def write(figures: dict, directory: Path, name: str) -> tuple[Path, Path]:
    """``<name>.json`` and ``<name>.txt`` in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path, text_path = directory / f"{name}.json", directory / f"{name}.txt"
    json_path.write_text(json.dumps(figures, indent=2, ensure_ascii=False, default=str) + "\n")
    text_path.write_text(as_text(figures))
    return json_path, text_path


def as_text(figures: dict) -> str:
    """A human summary of the figures."""
    r, f, d = figures["requests"], figures["faults"], figures["durations"]
    lines = [
        f"chaos campaign {figures['started_at']}: {'PASSED' if figures['passed'] else 'FAILED'}",
        f"command: {figures['command']}",
        "",
        f"requests: {r['recharges']} recharges ({r['recharges_success']} ok, {r['recharges_failed']} failed,"
        f" {r['recharges_abandoned']} abandoned), {r['withdraws']} withdraws ({r['withdraws_success']} ok,"
        f" {r['withdraws_failed']} failed, {r['withdraws_abandoned']} abandoned), {r['netsaves']} Huifu netsaves"
        f" ({r['netsaves_success']} ok) for {r['huifu_customers']} Huifu customers, {r['accounts_opened']} accounts",
        f"client retries after transient errors: {r.get('api_retries', 0)}; confirmations replayed:"
        f" {r.get('confirm_replays', 0)}; withdraws put off by the ledger (422): {r.get('withdraw_refused_422', 0)}",
        "",
        "faults injected:",
    ]
    lines += [f"  {name:34} {value}" for name, value in f.items()]
    lines += ["", "fault timeline (seconds into the traffic, share of the traffic done):"]
    lines += [f"  {e['at']:7.1f}s {e['progress'] * 100:5.1f}%  {e['kind']} ({e['seconds']}s) {e['detail'] or ''}"
              for e in sorted(figures["fault_events"], key=lambda e: e["at"])]
    res = figures["results"]
    lines += [
        "",
        f"lost: {res['lost']}   doubled: {res['doubled']}   violations: {res['violations_total']}",
        f"all requests final: {res['settled']}   balances checked: {res['balances_checked']}"
        f" (mismatched {res['balances_mismatched']})   cache entries: {res.get('cache_entries')}"
        f"   commissions in the platform's wallet: {res.get('commissions_fen')} fen",
        f"expired by compensation: {res.get('expired_by_compensation')}   settled by bank query:"
        f" {res.get('settled_by_query')}   DLQ messages replayed: {res['dlq_replayed']}",
        f"loans: {res.get('loans')} ({res.get('loans_repaid')} repaid)   transaction calls checked:"
        f" {res.get('transaction_calls_checked')}   lending balances mismatched:"
        f" {res.get('lending_balances_mismatched')}   lending anomalies: {res.get('lending_anomalies')}",
        f"bank total: {res.get('bank_total_before')} -> {res.get('bank_total_after')} fen (new borrowers' cards only)",
        "",
        f"time to settle after the traffic and the last fault: {d['settle']:.1f}s",
        f"throughput: {figures['throughput']['requests_per_second']:.1f} requests/s during the traffic,"
        f" {figures['throughput']['settled_per_second']:.1f} requests/s end to end (traffic + settling)",
        "durations (s): " + ", ".join(f"{name} {value:.1f}" for name, value in d.items()),
    ]
    if figures["violations"]:
        lines += ["", "violations:"] + [f"  - {text}" for text in figures["violations"]]
    return "\n".join(lines) + "\n"
