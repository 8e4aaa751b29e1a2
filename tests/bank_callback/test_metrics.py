"""bank-callback's /metrics: uncredited recharges by whether the customer is known, and customers."""
from tests.bank_callback.huifu_messages import netsave_fields, new_cust_id, register_fields
from tests.support.metrics import key, scrape, value


def test_backlog_and_customers_are_reported(client, sign_register, sign_netsave):
    known = new_cust_id()
    register = register_fields(UsrCustId=known)
    assert client.post("/register", data=sign_register(register)).status_code == 200
    for cust_id in (known, known, new_cust_id()):
        assert client.post("/netsave", data=sign_netsave(netsave_fields(cust_id))).status_code == 200
    gauges = scrape(client, "bank_callback_")
    assert value(gauges, "bank_callback_netsave_uncredited", customer_known="true") == 2
    assert value(gauges, "bank_callback_netsave_uncredited", customer_known="false") == 1
    assert value(gauges, "bank_callback_customers") == 1
    assert key("bank_callback_netsave_oldest_uncredited_seconds") in gauges
    assert value(gauges, "bank_callback_netsave_oldest_uncredited_seconds") >= 0
