"""The whole wanxin path with the real agent, bank sandbox, ledger and this service's worker."""
import uuid

import pytest
import requests

from shared.errors import Unavailable

from tests.support.processes import free_port
from tests.user_center.conftest import CALLBACK, new_mobile, open_form, request_no_of, wait_for

from user_center import config as user_center_config
from user_center.agent_client import AgentClient


def test_open_recharge_withdraw_through_the_real_stack(procs, infra, ledger):
    agent_port, sandbox_port = free_port(), free_port()
    agent_url, sandbox_url = f"http://127.0.0.1:{agent_port}", f"http://127.0.0.1:{sandbox_port}"
    agent_env = infra.service_env("depository_agent", BANK_SANDBOX_URL=sandbox_url)
    sandbox_env = infra.service_env("bank_sandbox", DEPOSITORY_AGENT_URL=agent_url)
    procs.web("depository_agent", agent_env, port=agent_port)
    procs.worker("depository_agent.workers.outbox_relay", agent_env)
    procs.web("bank_sandbox", sandbox_env, port=sandbox_port)
    procs.worker("bank_sandbox.workers.notifier", sandbox_env)
    uc_env = infra.service_env("user_center", LEDGER_URL=ledger.url, DEPOSITORY_AGENT_URL=agent_url,
                               WITHDRAW_COMMISSION="2.00")
    center = procs.web("user_center", uc_env)
    procs.worker("user_center.workers.gateway_notify", uc_env)

    mobile = new_mobile()
    assert requests.post(f"{center.url}/consumers", json={"mobile": mobile, "password": "long-enough"}).ok
    token = requests.post(f"{center.url}/tokens", json={"mobile": mobile, "password": "long-enough"}).json()
    headers = {"Authorization": f"Bearer {token['result']['access_token']}"}

    def confirm(gateway: dict) -> None:
        assert gateway["depositoryUrl"] == f"{sandbox_url}/gateway"
        answer = requests.post(f"{sandbox_url}/sandbox/confirm", json={
            "platformNo": gateway["platformNo"], "reqData": gateway["reqData"], "signature": gateway["signature"],
            "password": "bank-pass-123"})
        assert answer.status_code == 200, answer.text

    def me(path: str) -> dict:
        return requests.get(f"{center.url}{path}", headers=headers).json()["result"]

    opened = requests.post(f"{center.url}/my/consumers", json=open_form(), headers=headers)
    assert opened.status_code == 200, opened.text
    confirm(opened.json()["result"])
    wait_for(lambda: me("/my/consumers")["depositoryStatus"] == "OPENED", what="account opened")

    recharge = requests.post(f"{center.url}/my/recharge-records", json={"amount": "100.00", "callbackUrl": CALLBACK},
                             headers=headers)
    confirm(recharge.json()["result"])
    wait_for(lambda: me("/my/balances")["balance"] == "100.00", what="recharge credited")

    withdraw = requests.get(f"{center.url}/my/withdraw-records", params={"amount": "30.00", "callbackUrl": CALLBACK},
                            headers=headers)
    assert withdraw.status_code == 200, withdraw.text
    assert me("/my/balances")["balance"] == "68.00"  # 30.00 + 2.00 commission held
    confirm(withdraw.json()["result"])
    wait_for(lambda: me("/my/withdraw-records")["records"][0]["callbackStatus"] == 1, what="withdraw settled")
    assert me("/my/balances")["balance"] == "68.00"
    assert me("/my/recharge-records")["records"][0]["callbackStatus"] == 1
    # the bank paid the 2.00 commission into the platform's account: the ledger mirrors it there
    withdraw_no = request_no_of(withdraw.json()["result"])
    commission = [record for record in ledger.client.client.post("/account/record/query", json={
        "eid": "WANXINP2P", "change_type": 1, "ps": 100}).json()["data"] if record["trade_no"] == withdraw_no]
    assert [record["amount"] for record in commission] == [200]


def test_only_the_real_agents_no_such_record_counts_as_never_received(procs, infra):
    agent = procs.web("depository_agent", infra.service_env("depository_agent"))
    config = user_center_config.load(infra.config("user_center"))
    unknown, known = "REQ_" + uuid.uuid4().hex.upper(), "REQ_" + uuid.uuid4().hex.upper()
    client = AgentClient(agent.url, config)
    client.recharge({"requestNo": known, "userNo": "USR_" + uuid.uuid4().hex.upper(), "amount": "1.00",
                     "callbackUrl": "http://127.0.0.1:8001/#/callback"})
    assert client.knows(known) is True and client.knows(unknown) is False
    # the agent's 404 for a path it does not serve (an older version, a wrong prefix) proves nothing
    for base in (f"{agent.url}/v2", f"{agent.url}/l"):
        with pytest.raises(Unavailable):
            AgentClient(base, config).knows(unknown)
