"""Group commit of single postings, in process against the real PostgreSQL: concurrent postings share
one transaction, each answered as it would be alone, and a failure stays with its own posting."""
import threading
import time

import psycopg
import pytest

from beanpay_ledger.bootstrap import dependencies
from beanpay_ledger.postings import Posting
from beanpay_ledger.repository import postings as repository
from beanpay_ledger.outcomes import ADD, DEDUCT, REFUND
from shared.errors import BadRequest, Unavailable
from tests.beanpay_ledger.conftest import new_id
from tests.beanpay_ledger.invariants import assert_invariants


def _post_concurrently(committer, postings, monkeypatch, fail=None):
    """Post each of ``postings`` from its own thread while the committer is held on a first posting, so
    that all of them are queued together and go as one group; returns each answer (or error) in order."""
    release = threading.Event()
    real = repository.post
    calls = []

    def held_post(conn, group):
        trade_nos = [posting.trade_no for posting in group]
        calls.append(trade_nos)
        if trade_nos[0] == "hold":
            release.wait(10)
        if fail is not None and fail[0] in trade_nos:
            raise fail[1]
        return real(conn, group)

    monkeypatch.setattr(repository, "post", held_post)
    holder_eid = postings[0][1]
    answers = [None] * len(postings)

    def run(index, posting):
        try:
            answers[index] = committer.post(Posting(*posting))
        except Exception as exc:  # the answer under test
            answers[index] = exc

    holder = threading.Thread(target=committer.post, args=(Posting(ADD, holder_eid, "hold", 1),))
    holder.start()
    while not calls:
        time.sleep(0.005)
    threads = [threading.Thread(target=run, args=(i, p)) for i, p in enumerate(postings)]
    for thread in threads:
        thread.start()
    while committer._queue.qsize() < len(postings):
        time.sleep(0.005)
    release.set()
    for thread in (holder, *threads):
        thread.join(10)
    return answers, calls


@pytest.fixture
def committer(ledger_app):
    return dependencies(ledger_app).postings


def test_concurrent_postings_share_one_commit_each_answered_as_alone(api, db, committer, monkeypatch):
    eid = new_id("grp")
    api.post("/account/create", {"eid": eid, "name": "g"})
    postings = [(ADD, eid, "a1", 100), (DEDUCT, eid, "d1", 60), (ADD, eid, "a1", 100), (ADD, eid, "a1", 5),
                (DEDUCT, eid, "d2", 60), (REFUND, eid, "d1", 20), (REFUND, eid, "d9", 1), (ADD, new_id(), "x", 1)]
    answers, calls = _post_concurrently(committer, postings, monkeypatch)
    assert len(calls) == 2 and len(calls[1]) == len(postings)  # the holder alone, then one group
    outcomes = sorted((posting[2], posting[0], answer[0]) for posting, answer in zip(postings, answers))
    # Some order of the group: a1 then its replay and conflict; d1 within 100; the refund after d1.
    assert ("a1", ADD, "posted") in outcomes and ("a1", ADD, "conflict") in outcomes
    assert {o for o in outcomes if o[0] == "a1"} <= {("a1", ADD, "posted"), ("a1", ADD, "replay"),
                                                     ("a1", ADD, "conflict")}
    by_trade = {(p[2], p[0]): answer for p, answer in zip(postings, answers)}
    assert by_trade[("d9", REFUND)] == ("no_deduct", None)
    assert by_trade[("x", ADD)] == ("no_account", None)
    records = db.execute("select count(distinct r.xmin::text), count(*) from account_record r join account a"
                         " using (account_id) where eid = %s and trade_no <> 'hold'", (eid,)).fetchone()
    assert records[0] == 1  # every posting of the group in one transaction
    balance = api.get("/account/balance/query", {"eid": eid})[1]["balance"]
    assert balance == 1 + sum(-p[3] if p[0] == DEDUCT else p[3] for p, a in zip(postings, answers)
                              if a[0] == "posted")
    assert_invariants(db)


def test_a_group_the_database_refuses_is_applied_posting_by_posting(api, committer, monkeypatch):
    eid = new_id("grp")
    api.post("/account/create", {"eid": eid, "name": "g"})
    postings = [(ADD, eid, f"ok{n}", 10) for n in range(4)] + [(ADD, eid, "poison", 10)]
    refusal = psycopg.errors.CheckViolation("refused for the test")
    answers, calls = _post_concurrently(committer, postings, monkeypatch, fail=("poison", refusal))
    assert [answer[0] for answer in answers[:4]] == ["posted"] * 4
    assert answers[4] is refusal
    assert len(calls) == 2 + len(postings)  # holder, the refused group, then each posting alone
    assert api.get("/account/balance/query", {"eid": eid})[1]["balance"] == 41


def test_a_lost_connection_answers_503_to_the_whole_group(api, committer, monkeypatch):
    eid = new_id("grp")
    api.post("/account/create", {"eid": eid, "name": "g"})
    postings = [(ADD, eid, f"t{n}", 10) for n in range(3)]
    lost = psycopg.OperationalError("server closed the connection unexpectedly")
    answers, calls = _post_concurrently(committer, postings, monkeypatch, fail=("t0", lost))
    assert all(isinstance(answer, Unavailable) for answer in answers)
    assert len(calls) == 2  # not retried: whether the group committed is unknown
    assert api.get("/account/balance/query", {"eid": eid})[1]["balance"] == 1


def test_a_posting_whose_text_cannot_be_sent_is_its_own_400(api, committer, monkeypatch):
    """psycopg cannot encode a lone surrogate or a NUL: the statement never leaves, so the group is applied
    posting by posting and only the unsendable ones are refused (never 503 for the whole group)."""
    eid = new_id("grp")
    api.post("/account/create", {"eid": eid, "name": "g"})
    postings = [(ADD, eid, f"ok{n}", 10) for n in range(4)]
    postings[2:2] = [(ADD, eid, "bad\ud800", 10), (ADD, "nul\x00", "t", 10)]
    answers, calls = _post_concurrently(committer, postings, monkeypatch)
    assert [answer[0] for answer in answers if not isinstance(answer, Exception)] == ["posted"] * 4
    refused = [answer for answer in answers if isinstance(answer, Exception)]
    assert len(refused) == 2 and all(isinstance(answer, BadRequest) for answer in refused), answers
    assert len(calls) == 2 + len(postings)  # holder, the group that could not be sent, then each alone
    assert api.get("/account/balance/query", {"eid": eid})[1]["balance"] == 41
