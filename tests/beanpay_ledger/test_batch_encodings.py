"""Property, over real HTTP to gunicorn: however postings are cut into batches and single calls, ordered,
repeated and encoded (JSON with or without escapes, GET query or form with any valid percent-encoding),
each is answered exactly as that posting alone in that order (the in-memory model of test_property), and
the books hold exactly the model's records: no encoding lets one field be read as another's or one
trade number's key collide with another's (``A``, ``%41`` and ``Ａ``; ``é`` and ``e\\u0301``). A trade
number sent in GBK, which is not UTF-8, is refused (400) on every transport and changes nothing."""
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.beanpay_ledger.conftest import new_id
from tests.beanpay_ledger.real_server import running_ledger
from tests.beanpay_ledger.test_property import CHANGE_TYPE, Model

# Texts that differ but look or decode alike, and texts that carry the syntax of each wire format.
AWKWARD = ["A", "%41", "Ａ", "é", "e\u0301", "中", "%E4%B8%AD", "a+b", "a%2Bb", "a&b", "a=b", "a;b", "😀",
           "\\u0041", '"q"', "x\\", "[1]", "{}", "#f", "?q", "/p", ",", ":", "'", "%", "%%", "%zz", "+"]
# Placeholders for the other account's eid: a trade number shaped like an injection of another field.
INJECTIONS = ["x&eid={other}", 'x","eid":"{other}', "x%26eid%3D{other}", "x\\u0026eid={other}",
              'x\\",\\"eid\\":\\"{other}']
TEXT = st.text(st.characters(exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1, max_size=8)
TRADE_NOS = st.one_of(st.sampled_from(AWKWARD), st.sampled_from(INJECTIONS), TEXT)
OPERATIONS = st.lists(st.tuples(st.sampled_from([0, 1]), st.sampled_from(["add", "deduct", "refund"]), TRADE_NOS,
                                st.integers(min_value=1, max_value=400)), min_size=1, max_size=24)
JSON_STYLES = ["utf-8", "ascii", "all-escaped", "spaced"]
FORM_STYLES = ["reserved", "every-byte", "lower-hex"]


@pytest.fixture(scope="module")
def ledger(infra, tmp_path_factory):
    with running_ledger(infra, tmp_path_factory.mktemp("ledger-encodings")) as caller:
        yield caller


def _escaped(text: str) -> str:
    """A JSON string literal with every character as a \\u escape (astral ones as surrogate pairs)."""
    units = text.encode("utf-16-be")
    return '"' + "".join(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2)) + '"'


def encode_json(value, style: str, rng: random.Random) -> bytes:
    """``value`` (objects, lists, strings, ints) as JSON in one of several equivalent spellings."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        gap = " \n\t " if style == "spaced" else ""
        return ("{" + gap + f",{gap}".join(encode_json(k, style, rng).decode() + f"{gap}:{gap}"
                                           + encode_json(v, style, rng).decode() for k, v in items) + gap + "}").encode()
    if isinstance(value, list):
        return ("[" + ",".join(encode_json(item, style, rng).decode() for item in value) + "]").encode()
    if isinstance(value, str) and style == "all-escaped":
        return _escaped(value).encode()
    return json.dumps(value, ensure_ascii=style == "ascii").encode("utf-8")


def gbk_only(text: str) -> bytes | None:
    """``text`` in GBK when those bytes are not UTF-8 (so no decoder can read them as some other text)."""
    try:
        data = text.encode("gbk")
        data.decode("utf-8")
    except UnicodeEncodeError:
        return None
    except UnicodeDecodeError:
        return data
    return None


def encode_form(fields: dict, style: str, rng: random.Random, gbk: str | None = None) -> bytes:
    """``fields`` as ``a=b&...`` in a random order, percent-encoded in one of several equivalent ways,
    with a parameter no endpoint reads; the field named ``gbk`` is encoded in GBK."""
    def escape(text: str, charset: str = "utf-8") -> str:
        data = text.encode(charset)
        if style == "every-byte":
            return "".join(f"%{byte:02X}" for byte in data)
        plain = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"
        hex_format = "%{:02x}" if style == "lower-hex" else "%{:02X}"
        return "".join(chr(byte) if chr(byte) in plain else hex_format.format(byte) for byte in data)

    items = [(name, str(value)) for name, value in fields.items()] + [("note", "ignored & unread")]
    rng.shuffle(items)
    return "&".join(f"{escape(name)}={escape(value, 'gbk' if name == gbk else 'utf-8')}"
                    for name, value in items).encode("ascii")


def _status(answer, fields: dict) -> int:
    """The status; a record answered must be of exactly the posting's eid and trade number."""
    assert answer.status < 500, answer.body
    if answer.status in (200, 201):
        record = answer.json()
        assert (record["eid"], record["trade_no"]) == (fields["eid"], fields["trade_no"]), record
    return answer.status


def send_single(ledger, op: str, fields: dict, transport: str, style: str, rng, gbk: bool = False) -> int:
    """One posting; with ``gbk``, its trade number in GBK."""
    path = f"/account/balance/{op}"
    field = "trade_no" if gbk else None
    if transport == "get":
        return _status(ledger.raw("GET", path.encode() + b"?" + encode_form(fields, style, rng, field)), fields)
    if transport == "form":
        return _status(ledger.raw("POST", path, encode_form(fields, style, rng, field),
                                  headers={"Content-Type": "application/x-www-form-urlencoded"}), fields)
    body = encode_json({**fields, "trade_no": "\x00"} if gbk else fields, style, rng)
    if gbk:
        body = body.replace(encode_json("\x00", style, rng), b'"' + gbk_only(fields["trade_no"]) + b'"')
    return _status(ledger.raw("POST", path, body, headers={"Content-Type": "application/json"}), fields)


def send_batch(ledger, operations: list[dict], style: str, rng) -> list[int]:
    answer = ledger.raw("POST", "/account/balance/batch", encode_json({"operations": operations}, style, rng),
                        headers={"Content-Type": "application/json"})
    assert answer.status == 200, answer.body
    results = answer.json()["results"]
    for operation, result in zip(operations, results):
        if result["record"] is not None:
            assert (result["record"]["eid"], result["record"]["trade_no"]) == (operation["eid"], operation["trade_no"])
    return [result["status"] for result in results]


@settings(max_examples=60, deadline=None)
@given(ops=OPERATIONS, suffixes=st.lists(st.sampled_from(AWKWARD), min_size=2, max_size=2), data=st.data())
def test_every_cut_order_and_encoding_answers_as_the_postings_alone(ledger, ops, suffixes, data):
    eids = [new_id("enc") + suffix for suffix in suffixes]
    for eid in eids:
        assert ledger.json("/account/create", {"eid": eid, "name": "enc", "credit": 250}).status_code == 200
    models = [Model(250), Model(250)]
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    postings = [(who, op, trade_no.replace("{other}", eids[1 - who]), amount) for who, op, trade_no, amount in ops]
    answers, expected = [], []
    index = 0
    while index < len(postings):
        transport = data.draw(st.sampled_from(["batch", "get", "form", "json"]))
        if transport == "batch":
            size = data.draw(st.integers(1, len(postings) - index))
            chunk = postings[index:index + size]
            answers += send_batch(ledger, [{"op": op, "eid": eids[who], "trade_no": trade_no, "amount": amount}
                                           for who, op, trade_no, amount in chunk],
                                  data.draw(st.sampled_from(JSON_STYLES)), rng)
        else:
            chunk = postings[index:index + 1]
            who, op, trade_no, amount = chunk[0]
            style = data.draw(st.sampled_from(JSON_STYLES if transport == "json" else FORM_STYLES))
            gbk = gbk_only(trade_no) is not None and data.draw(st.booleans())
            answers.append(send_single(ledger, op, {"eid": eids[who], "trade_no": trade_no, "amount": amount},
                                       transport, style, rng, gbk))
            if gbk:
                expected.append(400)
                chunk = []
        expected += [models[who].apply(op, trade_no, amount) for who, op, trade_no, amount in chunk]
        index += max(len(chunk), 1)
    assert answers == expected, postings
    for eid, model in zip(eids, models):
        assert ledger.balance(eid) == model.balance
        books = sorted(ledger.records(eid))
        assert books == sorted((trade_no, CHANGE_TYPE[op], signed) for (op, trade_no), signed in model.records.items())
