"""The fault campaign, small: every fault at least once against the real stack, then the proof.

The same code as ``make chaos`` (``python -m chaos``) with less traffic: 150 recharges, 40 withdraws,
Huifu registrations and recharges, 3 loans through lending (each disbursed, a period repaid, settled); one SIGKILL of the GatewayNotifyConsumer and of the outbox relay,
a restart of the campaign's private RabbitMQ node, every PostgreSQL connection of the run terminated,
the private Redis stopped while Huifu callbacks flow, the ledger refusing connections for 20 s
(``make chaos``: 60 s) and one ledger worker frozen past user-center's service timeout; duplicated,
dropped and reordered bank notifications throughout.
"""
import json
from dataclasses import replace

import pytest

from chaos.campaign import run
from chaos.options import parse

ARGS = ["--recharges", "150", "--withdraws", "40", "--users", "10", "--huifu-users", "5", "--netsaves", "30",
        "--threads", "6", "--loans", "3", "--consumer-kills", "1", "--relay-kills", "1", "--redis-down-seconds", "2",
        "--expiry-seconds", "10", "--settle-timeout", "60", "--ledger-down-seconds", "20", "--ledger-freezes", "1"]


@pytest.mark.e2e
@pytest.mark.serial  # a dozen processes on every core, its faults timed against the traffic: it runs alone
def test_a_small_campaign_loses_nothing_and_doubles_nothing(tmp_path):
    options = replace(parse(ARGS), results_dir=tmp_path, results_name="campaign")
    figures = run(options, ARGS)

    results, faults, requests = figures["results"], figures["faults"], figures["requests"]
    assert figures["violations"] == [], figures.get("logs")
    assert (results["lost"], results["doubled"]) == (0, 0)
    assert results["settled"] and figures["passed"]
    assert results["balances_checked"] == 16 and results["balances_mismatched"] == 0  # users, openids, platform
    # the loans: disbursed, repaid and settled; bank = ledger for the funder and each borrower; totals conserved
    assert results["loans"] == 3 and results["loans_repaid"] == 3 and results["lending_balances_mismatched"] == 0
    assert results["transaction_calls_checked"] >= 3 * 7 and results["lending_anomalies"] == 0
    assert results["bank_total_after"] == results["bank_total_before"] + 3 * 100_000_000  # the borrowers' cards
    assert requests["loans_disbursed"] == 3 and requests["repayments_settled"] == 6
    assert results["cache_entries"] == 5

    # the traffic really happened, with failures and abandoned requests among it
    assert requests["recharges"] == 150 and requests["withdraws"] + requests.get("withdraws_skipped_no_funds", 0) == 40
    assert requests["recharges_success"] > 100 and requests["recharges_failed"] > 0
    assert requests["netsaves"] == 30 and requests["netsaves_success"] > 0
    # the platform's wallet: each paid withdraw's commission and each loan's service fee (2% of ¥10,000.00)
    assert requests["withdraws_success"] > 0
    assert results["commissions_fen"] == 50 * requests["withdraws_success"] + 3 * 20_000
    assert results["expired_by_compensation"] == requests["recharges_abandoned"] + requests["withdraws_abandoned"]

    # and so did every fault
    for kind in ("sigkill_gateway_notify", "sigkill_outbox_relay", "rabbitmq_restart",
                 "postgres_connections_terminated", "redis_stop", "ledger_outage", "ledger_worker_frozen"):
        assert faults[kind] == 1, kind
    assert faults["postgres_connections_killed"] > 5
    assert faults["duplicate_deliveries"] > 0 and faults["dropped_first_attempts"] > 0
    assert faults["deliveries_out_of_order"] > 0
    [restart] = [event["detail"] for event in figures["fault_events"] if event["kind"] == "rabbitmq_restart"]
    assert restart["node"] != "rabbit@localhost" and restart["port"] != 5672  # its own broker, not the machine's
    [outage] = [event for event in figures["fault_events"] if event["kind"] == "redis_stop"]
    assert outage["detail"]["customers_stored_while_down"] >= 1 and outage["detail"]["netsaves_stored_while_down"] >= 1

    # nothing listened on the ledger's port for 20 s while recharges and withdraws were asked for
    [down] = [event["detail"] for event in figures["fault_events"] if event["kind"] == "ledger_outage"]
    assert down["down_seconds"] >= 20 and down["refused_probes"] >= 30
    assert down["recharges_requested_during"] > 0 and down["withdraws_requested_during"] > 0
    # a worker (not the master) holding user-center's connections was stopped past its timeout while
    # withdraws were placed, and callers gave up on connections it held
    [frozen] = [event["detail"] for event in figures["fault_events"] if event["kind"] == "ledger_worker_frozen"]
    assert frozen["pid"] != frozen["master_pid"] and frozen["frozen_seconds"] > frozen["service_timeout"]
    assert frozen["connections_from_user_center"] >= 1 and frozen["connections_abandoned_by_callers"] >= 1
    assert frozen["withdraws_requested_during"] > 0

    written = json.loads((tmp_path / "campaign.json").read_text())
    assert written["results"]["lost"] == 0 and "lost: 0   doubled: 0" in (tmp_path / "campaign.txt").read_text()
