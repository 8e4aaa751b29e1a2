"""The ledger as deployed (gunicorn, gthread workers, so that concurrent postings are group-committed),
and a caller that sends exact bytes to it: the tests of how the ledger decodes what enters it."""
from contextlib import contextmanager
from typing import Iterator

import requests

from tests.shared import raw_http
from tests.support.processes import WebService

THREADED = "--worker-class gthread --threads 16"


@contextmanager
def running_ledger(infra, log_dir, **env) -> Iterator["LedgerCaller"]:
    """A gunicorn ledger on the run's database (``env`` on top), stopped afterwards."""
    service = WebService("beanpay_ledger", infra.service_env("beanpay_ledger", GUNICORN_CMD_ARGS=THREADED, **env),
                         log_dir, workers=2)
    service.start()
    try:
        yield LedgerCaller(service.url, infra.internal_token)
    finally:
        service.stop()


class LedgerCaller:
    """Calls with the service token: ``json``/``form``/``get`` through requests, ``raw`` with exact bytes."""

    def __init__(self, url: str, token: str):
        self.url = url
        self.auth = {"Authorization": f"Bearer {token}"}
        self.session = requests.Session()
        self.session.headers.update(self.auth)

    def json(self, path: str, body, **kwargs) -> requests.Response:
        return self.session.post(f"{self.url}{path}", json=body, timeout=30, **kwargs)

    def form(self, path: str, body: bytes | str) -> requests.Response:
        return self.session.post(f"{self.url}{path}", data=body, timeout=30,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})

    def get(self, path: str, query: str = "", **kwargs) -> requests.Response:
        """``query`` is sent as it is (percent-escapes included); requests only re-quotes what is not ASCII."""
        return self.session.get(f"{self.url}{path}?{query}" if query else f"{self.url}{path}", timeout=30, **kwargs)

    def raw(self, method: str, target: bytes | str, body: bytes = b"", headers: dict | None = None,
            token: bool = True) -> raw_http.RawAnswer:
        return raw_http.send(self.url, method, target, {**(self.auth if token else {}), **(headers or {})}, body)

    def balance(self, eid: str) -> int:
        answer = self.json("/account/balance/query", {"eid": eid})
        assert answer.status_code == 200, answer.text
        return answer.json()["balance"]

    def records(self, eid: str) -> list[tuple[str, int, int]]:
        """``(trade_no, change_type, amount)`` of every record of ``eid``, oldest first."""
        rows, page = [], 1
        while True:
            answer = self.json("/account/record/query", {"eid": eid, "ps": 100, "pi": page}).json()
            rows += [(r["trade_no"], r["change_type"], r["amount"]) for r in answer["data"]]
            if len(rows) >= answer["count"]:
                return rows[::-1]
            page += 1
