"""Page callbacks: verified, then the browser is sent to the frontend route of the environment."""
from urllib.parse import parse_qs, unquote

import pytest

from tests.bank_callback.huifu_messages import netsave_fields, new_cust_id, register_fields

RESP_DESC = "开户成功 & a=b+c%"


def _fragment(location: str) -> tuple[str, dict]:
    base, _, fragment = location.partition("#")
    route, _, query = fragment.partition("?")
    return base + "#" + route, {key: values[0] for key, values in parse_qs(query, keep_blank_values=True).items()}


@pytest.mark.parametrize("settings, base", [
    ({"FRONTEND_ENV": "production"}, "http://m.fengchaohuzhu.com/"),
    ({"FRONTEND_ENV": "test"}, "http://dev.fengchaohuzhu.com/"),
    ({"FRONTEND_ENV": "local", "USER_CENTER_URL": "http://127.0.0.1:18001"}, "http://127.0.0.1:18001/"),
    ({"FRONTEND_ENV": "production", "FRONTEND_BASE": "https://front.example/app"}, "https://front.example/app/"),
])
def test_register_page_redirects_to_the_environment_frontend(make_app, sign_register, settings, base):
    client = make_app(**settings).test_client()
    response = client.get("/RegisterCallback", query_string=sign_register(register_fields(RespDesc=RESP_DESC)))
    assert response.status_code == 302
    route, values = _fragment(response.headers["Location"])
    assert route == f"{base}#/BankUserRegisterCallback"
    assert values == {"RespCode": "000", "RespDesc": RESP_DESC}


def test_values_are_percent_encoded_in_the_fragment(make_app, sign_netsave):
    client = make_app(FRONTEND_ENV="test").test_client()
    fields = sign_netsave(netsave_fields(new_cust_id(), RespCode="105", RespDesc=RESP_DESC))
    location = client.post("/NetSaveCallback", data=fields).headers["Location"]
    expected = ("RespCode=105&RespDesc=%E5%BC%80%E6%88%B7%E6%88%90%E5%8A%9F%20%26%20a%3Db%2Bc%25")
    assert location == f"http://dev.fengchaohuzhu.com/#/NetSaveCallback?{expected}"
    assert unquote(location.rsplit("RespDesc=", 1)[1]) == RESP_DESC


def test_netsave_page_by_get(client, sign_netsave, stored):
    response = client.get("/NetSaveCallback", query_string=sign_netsave(netsave_fields(new_cust_id())))
    assert response.status_code == 302
    assert "#/NetSaveCallback?RespCode=000&RespDesc=" in response.headers["Location"]
    assert stored("bank_netsave") == []  # a page callback stores nothing


@pytest.mark.parametrize("path, build", [
    ("/RegisterCallback", lambda: register_fields()),
    ("/NetSaveCallback", lambda: netsave_fields(new_cust_id())),
])
def test_bad_chkvalue_gets_no_redirect(client, sign_register, sign_netsave, path, build):
    sign = sign_register if path == "/RegisterCallback" else sign_netsave
    fields = sign(build())
    fields["RespCode"] = "999"
    for response in (client.get(path, query_string=fields), client.post(path, data=fields)):
        assert response.status_code == 400
        assert "Location" not in response.headers


def test_unknown_frontend_environment_is_a_configuration_error(make_app):
    with pytest.raises(ValueError, match="FRONTEND_ENV"):
        make_app(FRONTEND_ENV="staging")
