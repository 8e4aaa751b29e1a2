"""The service under gunicorn, called over real HTTP exactly as the bank would call it."""
import requests

from tests.bank_callback.huifu_messages import netsave_fields, register_fields


def test_callbacks_over_http(procs, infra, sign_register, sign_netsave, stored):
    service = procs.web("bank_callback", infra.service_env("bank_callback", FRONTEND_ENV="production"))
    fields = register_fields(UsrId="wx_user-01", MerPriv="用户&x=1+2 %20", RespDesc="成功 & 完成")
    body = sign_register(fields)

    answer = requests.post(f"{service.url}/register", data=body, timeout=5)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert answer.text == f"RECV_ORD_ID_{fields['TrxId']}"
    assert stored("bank_customers") == [(fields["UsrId"], fields["UsrCustId"], False)]

    saving = netsave_fields(fields["UsrCustId"], "0.01")
    assert requests.post(f"{service.url}/netsave", data=sign_netsave(saving), timeout=5).text == \
        f"RECV_ORD_ID_{saving['TrxId']}"

    page = requests.get(f"{service.url}/RegisterCallback", params=body, allow_redirects=False, timeout=5)
    assert page.status_code == 302
    assert page.headers["Location"] == ("http://m.fengchaohuzhu.com/#/BankUserRegisterCallback?RespCode=000"
                                        "&RespDesc=%E5%BC%80%E6%88%B7%E6%88%90%E5%8A%9F")

    assert requests.get(f"{service.url}/readyz", timeout=5).status_code == 200
    paths = requests.get(f"{service.url}/openapi.json", timeout=5).json()["paths"]
    assert {"/register", "/netsave", "/RegisterCallback", "/NetSaveCallback"} <= set(paths)
