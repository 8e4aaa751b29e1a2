"""Page callbacks: verified, then the browser is sent to the frontend route of the environment with the
signed RespCode and the platform's own text for it (the bank's RespDesc is not signed: never shown)."""
from urllib.parse import parse_qs, unquote

import pytest
import requests

from tests.bank_callback.huifu_messages import netsave_fields, new_cust_id, register_fields
from tests.support.processes import WebService

RESP_DESC = "恭喜 & a=b+c% 已到账"  # what an attacker could put in the unsigned RespDesc


@pytest.fixture(scope="module")
def page_server(infra, callback_db, tmp_path_factory):
    """bank-callback under gunicorn, redirecting to the test frontend."""
    service = WebService("bank_callback", infra.service_env("bank_callback", FRONTEND_ENV="test"),
                         tmp_path_factory.mktemp("pages"))
    yield service.start()
    service.stop()


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
    assert values == {"RespCode": "000", "RespDesc": "开户成功"}


def test_values_are_percent_encoded_in_the_fragment(make_app, sign_netsave):
    client = make_app(FRONTEND_ENV="test").test_client()
    fields = sign_netsave(netsave_fields(new_cust_id(), RespCode="351", RespDesc=RESP_DESC))
    location = client.post("/NetSaveCallback", data=fields).headers["Location"]
    expected = "RespCode=351&RespDesc=%E9%93%B6%E8%A1%8C%E5%8D%A1%E4%BD%99%E9%A2%9D%E4%B8%8D%E8%B6%B3"
    assert location == f"http://dev.fengchaohuzhu.com/#/NetSaveCallback?{expected}"
    assert unquote(location.rsplit("RespDesc=", 1)[1]) == "银行卡余额不足"


@pytest.mark.parametrize("path, command, build, texts", [
    ("/RegisterCallback", "register", lambda: register_fields(),
     {"000": "开户成功", "999": "用户取消开户"}),
    ("/NetSaveCallback", "netsave", lambda: netsave_fields(new_cust_id()),
     {"000": "充值成功", "351": "银行卡余额不足", "999": "用户取消充值"}),
])
def test_resp_desc_is_the_platforms_text_for_the_signed_resp_code(page_server, sign_register, sign_netsave,
                                                                 path, command, build, texts):
    """The unsigned RespDesc a bank (or anyone re-posting a genuine callback) sends never reaches the user."""
    sign = sign_register if command == "register" else sign_netsave
    for code, text in texts.items():
        fields = sign({**build(), "RespCode": code})
        for hostile in (RESP_DESC, "<script>alert(1)</script>", "充值成功，已到账 ¥1,000,000.00", ""):
            for response in (requests.get(f"{page_server.url}{path}", params={**fields, "RespDesc": hostile},
                                          allow_redirects=False, timeout=5),
                             requests.post(f"{page_server.url}{path}", data={**fields, "RespDesc": hostile},
                                           allow_redirects=False, timeout=5)):
                assert response.status_code == 302, response.text
                assert _fragment(response.headers["Location"])[1] == {"RespCode": code, "RespDesc": text}


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
