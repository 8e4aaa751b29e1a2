"""ChkValue signs the fields joined without separators: only the genuine field set may ever count.

Against bank-callback under gunicorn with its real database, the real beanpay-ledger and the crediting
pass: re-cut, re-encoded and re-ordered variants of genuine signed UserRegister and NetSave callbacks
are refused on every endpoint, and nothing is stored, bound or credited for them.
"""
import string
from datetime import date, timedelta

import pytest
import requests
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from shared.errors import NotFound

from bank_callback.config import load
from bank_callback.huifu import NET_SAVE, Verifier
from tests.bank_callback.huifu_messages import (NETSAVE_ORDER, REGISTER_ORDER, netsave_fields, new_cust_id,
                                                new_openid, register_fields, signed, trx_id)
from tests.bank_callback.huifu_wire import (MAX_FEN, PLATFORM_NO, bank_day, is_genuine, readings, send,
                                            variants)
from tests.bank_callback.operator_commands import run_command
from tests.support.metrics import parse, value
from tests.support.processes import WebService

NETSAVE = tuple(NETSAVE_ORDER)
REGISTER = tuple(REGISTER_ORDER)
ENDPOINTS = {"UserRegister": (("POST", "/register"), ("GET", "/RegisterCallback"), ("POST", "/RegisterCallback")),
             "NetSave": (("POST", "/netsave"), ("GET", "/NetSaveCallback"), ("POST", "/NetSaveCallback"))}
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                           HealthCheck.filter_too_much])
DIGITS = string.digits
# Every value of a generated callback is drawn, so that an example replays to the very same bytes.
CUST_IDS = st.text(string.digits, min_size=16, max_size=16)


def _window() -> list[str]:
    today = bank_day()
    return [(today + timedelta(days=shift)).strftime("%Y%m%d") for shift in (-1, 0, 1)]


def _pieces() -> list[str]:
    """Prefixes and suffixes of the dates OrdDate may take: what re-cuts across OrdDate are made of."""
    return sorted({piece for day in _window() for k in range(9) for piece in (day[:k], day[k:])})


@st.composite
def genuine_netsaves(draw, cust_id: str) -> dict:
    """Valid NetSave fields, often with an OrdId ending, or an amount starting, with a piece of a date."""
    pieces = _pieces()
    ord_id = draw(st.one_of(st.text(DIGITS, min_size=1, max_size=30),
                            st.tuples(st.text(DIGITS, min_size=1, max_size=22), st.sampled_from(pieces))
                            .map("".join)))
    whole = draw(st.one_of(st.integers(0, MAX_FEN // 100).map(str),
                           st.tuples(st.sampled_from(pieces), st.text(DIGITS, max_size=2)).map("".join)))
    fen = (int(whole or "0") * 100 + draw(st.integers(0, 99))) if whole else draw(st.integers(1, 99))
    assume(0 < fen <= MAX_FEN)
    trx_id = draw(st.text(DIGITS, min_size=1, max_size=18))
    return netsave_fields(
        cust_id, f"{fen // 100}.{fen % 100:02d}", OrdId=ord_id, TrxId=trx_id,
        OrdDate=draw(st.sampled_from(_window())), RespCode=draw(st.sampled_from(["000", "000", "351", "999"])),
        MerPriv=draw(st.sampled_from(["", "a+b c&d=e%f", "备注 1+1=2", "2026", "http://x/?y=1"])),
        RespDesc=draw(st.sampled_from(["成功", "a+b %20&x=y", ""])))


@st.composite
def genuine_registers(draw) -> dict:
    """Valid UserRegister fields; openids often end in digits (the neighbour UsrCustId is digits)."""
    openid = draw(st.one_of(st.from_regex(r"[A-Za-z0-9_-]{1,25}", fullmatch=True),
                            st.from_regex(r"[a-z_-]{0,9}[0-9]{1,16}", fullmatch=True)))
    assume(openid != PLATFORM_NO)
    code = draw(st.sampled_from(["000", "000", "999"]))
    cust_id = draw(CUST_IDS if code == "000" else st.one_of(CUST_IDS, st.just("")))
    return register_fields(UsrId=openid, UsrCustId=cust_id, RespCode=code,
                           TrxId=draw(st.text(DIGITS, min_size=1, max_size=18)),
                           MerPriv=draw(st.sampled_from(["", "p=1&q=二", "0", "x y+z"])))


def _reset(db, redis_client, cache_key) -> None:
    db.execute("delete from bank_customers; delete from bank_netsave; delete from huifu_transaction;"
               " delete from huifu_anomaly")
    redis_client.delete(cache_key)


def _accepted(method: str, answer: tuple[int, str, str], trx_id: str) -> bool:
    """Whether an answer accepted the callback; a refusal must carry neither receipt nor redirect."""
    status, text, location = answer
    if method == "POST" and status == 200 and text == f"RECV_ORD_ID_{trx_id}" or status == 302 and location:
        return True
    assert status in (400, 409, 415) and "RECV" not in text and not location, answer
    return False


def _deliver(server, command: str, endpoint: tuple[str, str], genuine: dict, variant) -> tuple[bool, bool]:
    """Send the variant to ``endpoint``, then the genuine callback to the background endpoint.

    Returns (variant accepted, genuine accepted) after checking each against the oracle: the variant
    counts only when it decodes to the genuine field set, and the genuine one only when its signed bytes
    have no other reading (an ambiguous one is refused with 912 whoever sends it).
    """
    order = NETSAVE if command == "NetSave" else REGISTER
    ambiguous = len(readings(command, order, [genuine.get(name, "") for name in order], bank_day())) > 1
    method, path = endpoint
    sent = send(server.url, method, path, variant)
    event(f"variant answered {sent[0]} {sent[1][:11] if sent[0] >= 400 else ''}".strip())
    event("genuine with two readings" if ambiguous else "genuine with one reading")
    variant_ok = _accepted(method, sent, genuine["TrxId"])
    expected = is_genuine(variant.fields(), genuine, order) and not ambiguous
    assert variant_ok == expected, (variant.notes, variant.fields(), ambiguous)
    background = ENDPOINTS[command][0][1]
    answer = requests.post(f"{server.url}{background}", data=genuine, timeout=10)
    genuine_ok = answer.status_code == 200 and answer.text == f"RECV_ORD_ID_{genuine['TrxId']}"
    assert genuine_ok != ambiguous, (answer.status_code, answer.text)
    if ambiguous:
        assert answer.json()["code"] == 912
    return variant_ok, genuine_ok


def test_netsave_variants_never_store_or_credit_anything_but_the_genuine(server, huifu_private, db, redis_client,
                                                                        cache_key, make_crediter, ledger):
    crediter = make_crediter()

    @PROPERTY
    @given(data=st.data())
    def check(data):
        _reset(db, redis_client, cache_key)
        # A fresh wallet per example (the openid takes no part in the draws); the cust id is drawn.
        customer = signed(huifu_private, register_fields(UsrCustId=data.draw(CUST_IDS), TrxId="1" * 18),
                          REGISTER_ORDER)
        assert requests.post(f"{server.url}/register", data=customer, timeout=10).status_code == 200
        fields = data.draw(genuine_netsaves(customer["UsrCustId"]))
        assume(fields["TrxId"] != customer["TrxId"])
        genuine = signed(huifu_private, fields, NETSAVE_ORDER)
        endpoint = data.draw(st.sampled_from(ENDPOINTS["NetSave"]))
        variant = data.draw(variants(genuine, NETSAVE, with_body=endpoint[0] == "POST"))
        _, genuine_ok = _deliver(server, "NetSave", endpoint, genuine, variant)

        rows = db.execute("select rtrim(cust_id), rtrim(ord_id) from bank_netsave").fetchall()
        assert rows == ([(genuine["UsrCustId"], genuine["OrdId"])] if genuine_ok else [])
        assert crediter.run_once().ledger_down is False
        try:
            balance = ledger.balance(customer["UsrId"])["balance"]
        except NotFound:  # no wallet: nothing was ever credited
            balance = 0
        fen = int(genuine["TransAmt"].replace(".", ""))
        assert balance == (fen if genuine_ok and genuine["RespCode"] == "000" else 0)
        kinds = {row[0] for row in db.execute("select kind from huifu_anomaly")}
        assert kinds <= ({"ambiguous"} if not genuine_ok else set())

    check()


def test_register_variants_never_bind_anyone_but_the_genuine_customer(server, huifu_private, db, redis_client,
                                                                      cache_key):
    @PROPERTY
    @given(data=st.data())
    def check(data):
        _reset(db, redis_client, cache_key)
        genuine = signed(huifu_private, data.draw(genuine_registers()), REGISTER_ORDER)
        endpoint = data.draw(st.sampled_from(ENDPOINTS["UserRegister"]))
        variant = data.draw(variants(genuine, REGISTER, with_body=endpoint[0] == "POST"))
        _, genuine_ok = _deliver(server, "UserRegister", endpoint, genuine, variant)

        bound = genuine_ok and genuine["RespCode"] == "000"
        expected = [(genuine["UsrId"], genuine["UsrCustId"])] if bound else []
        assert db.execute("select rtrim(openid), rtrim(cust_id) from bank_customers").fetchall() == expected
        assert redis_client.hgetall(cache_key) == dict(expected)

    check()


def recut(fields: dict, order: tuple[str, ...], left: str, shift: int) -> dict:
    """``fields`` with ``shift`` characters moved from the start of ``left``'s right neighbour into
    ``left`` (a negative shift moves them the other way); the concatenation is unchanged."""
    index = order.index(left)
    right = order[index + 1]
    joined = fields.get(left, "") + fields.get(right, "")
    cut = len(fields.get(left, "")) + shift
    return {**fields, left: joined[:cut], right: joined[cut:]}


def test_recuts_of_one_genuine_recharge_are_refused_and_it_is_credited_once(server, huifu_private, db,
                                                                          make_crediter, ledger):
    """Moving characters between OrdId, OrdDate and TransAmt of a signed 100.00 NetSave keeps ChkValue
    valid; each such callback is refused (before the genuine one arrives, and after), 100.00 credited."""
    customer = signed(huifu_private, register_fields(), REGISTER_ORDER)
    assert requests.post(f"{server.url}/register", data=customer, timeout=10).status_code == 200
    genuine = signed(huifu_private, netsave_fields(customer["UsrCustId"], "100.00",
                                                   OrdId=bank_day().strftime("%Y%m%d") + "0000000001"), NETSAVE_ORDER)
    recuts = [recut(genuine, NETSAVE, "OrdId", 3),  # OrdId takes "202", OrdDate keeps 5 digits
              recut(genuine, NETSAVE, "OrdId", 8),  # OrdId takes the whole date, OrdDate is empty
              recut(genuine, NETSAVE, "OrdDate", -1),  # the date's last digit leads the amount
              recut(genuine, NETSAVE, "OrdId", -4),  # OrdDate takes the end of OrdId
              recut(recut(genuine, NETSAVE, "OrdId", 1), NETSAVE, "OrdDate", 1)]  # everything one to the left
    for fields in recuts + [genuine] + recuts:
        answer = requests.post(f"{server.url}/netsave", data=fields, timeout=10)
        if fields is genuine:
            assert answer.text == f"RECV_ORD_ID_{genuine['TrxId']}"
        else:
            assert answer.status_code == 400 and answer.json()["code"] == 911, answer.text
    assert db.execute("select rtrim(ord_id) from bank_netsave").fetchall() == [(genuine["OrdId"],)]
    assert make_crediter().run_once().credited == 1
    assert ledger.balance(customer["UsrId"])["balance"] == 10000


def test_recut_registrations_bind_no_openid(server, huifu_private, stored, redis_client, cache_key):
    """Moving characters between UsrId, UsrCustId and BgRetUrl would bind other openids to cust ids."""
    genuine = signed(huifu_private, register_fields(UsrId="wx-alice-0042"), REGISTER_ORDER)
    recuts = [recut(genuine, REGISTER, "UsrId", 3),  # openid takes 3 digits, cust id ends in "htt"
              recut(genuine, REGISTER, "UsrId", -4),  # "wx-alice-" bound to "0042" + the cust id
              recut(genuine, REGISTER, "UsrCustId", 4),  # cust id takes "http"
              recut(recut(genuine, REGISTER, "UsrId", -2), REGISTER, "UsrCustId", -2)]  # openid "wx-alice-00"
    for fields in recuts:
        answer = requests.post(f"{server.url}/register", data=fields, timeout=10)
        assert answer.status_code == 400 and answer.json()["code"] == 911, answer.text
    assert stored("bank_customers") == [] and redis_client.hlen(cache_key) == 0
    assert requests.post(f"{server.url}/register", data=genuine, timeout=10).text == \
        f"RECV_ORD_ID_{genuine['TrxId']}"
    assert stored("bank_customers") == [(genuine["UsrId"], genuine["UsrCustId"], False)]


@pytest.fixture(scope="module")
def high_limit_server(infra, callback_db, tmp_path_factory):
    """bank-callback with a maximum amount so high that an OrdId ending in a date re-cuts into an amount."""
    service = WebService("bank_callback", infra.service_env("bank_callback", MAX_AMOUNT_FEN=10**12),
                         tmp_path_factory.mktemp("high-limit"))
    yield service.start()
    service.stop()


def test_signed_bytes_with_two_readings_are_refused_and_recorded(high_limit_server, huifu_private, db, infra,
                                                               make_crediter, ledger):
    """OrdId "1<today>", OrdDate today, 5.00 reads as OrdId "1", OrdDate today, TransAmt "<today>5.00" too:
    formats alone cannot tell them apart, so neither is stored, and the bank's callback is an anomaly."""
    customer = signed(huifu_private, register_fields(), REGISTER_ORDER)
    assert requests.post(f"{high_limit_server.url}/register", data=customer, timeout=10).status_code == 200
    today = bank_day().strftime("%Y%m%d")
    genuine = signed(huifu_private, netsave_fields(customer["UsrCustId"], "5.00", OrdId="1" + today, OrdDate=today),
                     NETSAVE_ORDER)
    forged = recut(recut(genuine, NETSAVE, "OrdId", -8), NETSAVE, "OrdDate", -8)
    assert (forged["OrdId"], forged["OrdDate"], forged["TransAmt"]) == ("1", today, today + "5.00")
    for fields in (forged, genuine, genuine):
        answer = requests.post(f"{high_limit_server.url}/netsave", data=fields, timeout=10)
        assert answer.status_code == 400 and answer.json()["code"] == 912, answer.text
    assert db.execute("select count(*) from bank_netsave").fetchone()[0] == 0
    assert make_crediter().run_once().credited == 0
    with pytest.raises(NotFound):
        ledger.balance(customer["UsrId"])

    rows = db.execute("select kind, trx_id, occurrences, fields->>'OrdId' from huifu_anomaly order by id").fetchall()
    assert rows == [("ambiguous", genuine["TrxId"], 1, "1"), ("ambiguous", genuine["TrxId"], 2, genuine["OrdId"])]
    listed = run_command(infra, "anomalies", "list")
    assert listed.returncode == 1 and "2 open anomaly(ies)" in listed.stdout
    gauges = parse(requests.get(f"{high_limit_server.url}/metrics", timeout=5).text, "bank_callback_anomalies")
    assert value(gauges, "bank_callback_anomalies_open", kind="ambiguous") == 2


def test_realistic_two_readings_on_a_given_day(infra):
    """On 2026-12-02 with the default maximum, OrdId "1111120261" + 5.00 also reads as OrdId "11111" +
    612,025.00: the number of readings the service finds under that day's formats."""
    verifier = Verifier.from_config(load(infra.config("bank_callback")))
    rules = verifier.rules(NET_SAVE, date(2026, 12, 2))
    fields = netsave_fields(new_cust_id(), "5.00", OrdId="1111120261", OrdDate="20261202")
    assert verifier.readings("".join(fields.get(name, "") for name in NETSAVE), rules, limit=3) == 2
    assert verifier.readings("".join({**fields, "TransAmt": "55.00"}.get(name, "") for name in NETSAVE), rules,
                             limit=3) == 1
    assert len(readings("NetSave", NETSAVE, [fields.get(name, "") for name in NETSAVE], date(2026, 12, 2))) == 2


def test_a_trx_id_is_one_callback(server, huifu_private, db, infra, make_crediter, ledger):
    """The same TrxId with other signed fields (another order, another command, a page callback) is refused
    and recorded; an operator lists and resolves it."""
    customer = signed(huifu_private, register_fields(), REGISTER_ORDER)
    assert requests.post(f"{server.url}/register", data=customer, timeout=10).status_code == 200
    first = signed(huifu_private, netsave_fields(customer["UsrCustId"], "10.00"), NETSAVE_ORDER)
    assert requests.post(f"{server.url}/netsave", data=first, timeout=10).status_code == 200
    again = signed(huifu_private, netsave_fields(customer["UsrCustId"], "900.00", TrxId=first["TrxId"]),
                   NETSAVE_ORDER)
    other_command = signed(huifu_private, register_fields(TrxId=first["TrxId"]), REGISTER_ORDER)
    for path, fields in (("/netsave", again), ("/netsave", again), ("/register", other_command),
                         ("/NetSaveCallback", again)):
        answer = requests.post(f"{server.url}{path}", data=fields, allow_redirects=False, timeout=10)
        assert answer.status_code == 409 and "RECV" not in answer.text, answer.text
    assert requests.post(f"{server.url}/netsave", data=first, timeout=10).text == f"RECV_ORD_ID_{first['TrxId']}"
    assert db.execute("select rtrim(ord_id) from bank_netsave").fetchall() == [(first["OrdId"],)]
    assert make_crediter().run_once().credited == 1
    assert ledger.balance(customer["UsrId"])["balance"] == 1000
    assert db.execute("select count(*) from bank_customers").fetchone()[0] == 1

    rows = db.execute("select id, kind, cmd_id, occurrences from huifu_anomaly order by id").fetchall()
    assert [row[1:] for row in rows] == [("trx_id_reused", "NetSave", 3), ("trx_id_reused", "UserRegister", 1)]
    gauges = parse(requests.get(f"{server.url}/metrics", timeout=5).text, "bank_callback_anomalies")
    assert value(gauges, "bank_callback_anomalies_open", kind="trx_id_reused") == 2
    listed = run_command(infra, "anomalies", "list")
    assert listed.returncode == 1 and listed.stdout.count('"kind": "trx_id_reused"') == 2
    assert run_command(infra, "anomalies", "resolve", *(str(row[0]) for row in rows)).returncode == 0
    assert run_command(infra, "anomalies", "list").returncode == 0
    assert "trx_id_reused" in run_command(infra, "anomalies", "list", "--all").stdout


def test_an_ord_id_in_another_bank_transaction_is_an_anomaly(server, huifu_private, db):
    first = signed(huifu_private, netsave_fields(new_cust_id(), "10.00"), NETSAVE_ORDER)
    assert requests.post(f"{server.url}/netsave", data=first, timeout=10).status_code == 200
    other = signed(huifu_private, {**first, "TrxId": trx_id()}, NETSAVE_ORDER)
    answer = requests.post(f"{server.url}/netsave", data=other, timeout=10)
    assert answer.status_code == 409, answer.text
    assert db.execute("select kind from huifu_anomaly").fetchall() == [("ord_id_reused",)]
    assert db.execute("select count(*) from huifu_transaction").fetchone()[0] == 1


def test_a_contradicting_binding_is_an_anomaly_until_resolved(server, huifu_private, db):
    first = signed(huifu_private, register_fields(), REGISTER_ORDER)
    assert requests.post(f"{server.url}/register", data=first, timeout=10).status_code == 200
    other = signed(huifu_private, register_fields(UsrId=new_openid(), UsrCustId=first["UsrCustId"]), REGISTER_ORDER)
    for _ in range(2):
        assert requests.post(f"{server.url}/register", data=other, timeout=10).status_code == 409
    assert db.execute("select kind, occurrences from huifu_anomaly").fetchall() == [("binding_conflict", 2)]
    # The operator's fix: the wrong row is soft-deleted; the bank's next retry binds.
    db.execute("update bank_customers set deleted = true where rtrim(openid) = %s", (first["UsrId"],))
    assert requests.post(f"{server.url}/register", data=other, timeout=10).status_code == 200



def test_the_same_binding_in_another_bank_transaction_is_no_anomaly(server, huifu_private, db):
    """A binding stored before (an earlier registration of the same pair, or one received before TrxIds
    were recorded) is confirmed by a later UserRegister under another TrxId, not contradicted."""
    first = signed(huifu_private, register_fields(), REGISTER_ORDER)
    assert requests.post(f"{server.url}/register", data=first, timeout=10).status_code == 200
    db.execute("delete from huifu_transaction")  # as if it had been received before TrxIds were recorded
    for fields in (first, {**first, "TrxId": trx_id()}):
        again = signed(huifu_private, fields, REGISTER_ORDER)
        answer = requests.post(f"{server.url}/register", data=again, timeout=10)
        assert answer.text == f"RECV_ORD_ID_{again['TrxId']}"
    assert db.execute("select count(*) from huifu_anomaly").fetchone()[0] == 0
    assert db.execute("select count(*) from bank_customers").fetchone()[0] == 1


def test_a_netsave_stored_before_trx_ids_were_recorded_is_a_duplicate(server, huifu_private, db):
    fields = signed(huifu_private, netsave_fields(new_cust_id(), "10.00"), NETSAVE_ORDER)
    assert requests.post(f"{server.url}/netsave", data=fields, timeout=10).status_code == 200
    db.execute("delete from huifu_transaction")
    assert requests.post(f"{server.url}/netsave", data=fields, timeout=10).text == f"RECV_ORD_ID_{fields['TrxId']}"
    assert db.execute("select count(*) from huifu_anomaly").fetchone()[0] == 0
    assert db.execute("select count(*) from bank_netsave").fetchone()[0] == 1
