"""The static single page at ``/`` and the OpenAPI document."""
import re
import shutil
import subprocess

import pytest

from user_center import STATIC_DIR


def test_the_page_is_served_with_a_strict_content_security_policy(client):
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    html = page.get_data(as_text=True)
    assert '<script src="/assets/app.js"' in html and "<script>" not in html  # no inline script under the CSP
    for route_view in ("view-auth", "view-home", "view-records", "view-result", "open-form", "recharge-form",
                       "withdraw-form"):
        assert f'id="{route_view}"' in html
    script = client.get("/assets/app.js")
    assert script.status_code == 200 and "javascript" in script.mimetype
    assert client.get("/assets/app.css").status_code == 200


def test_the_page_uses_no_external_resources():
    for path in STATIC_DIR.iterdir():
        text = path.read_text()
        assert not re.search(r"(src|href)=\"(https?:)?//", text), path.name
        assert "cdn" not in text.lower(), path.name


def test_the_script_talks_to_the_contract():
    script = (STATIC_DIR / "app.js").read_text()
    page = (STATIC_DIR / "index.html").read_text()
    for needed in ('"/tokens"', '"/consumers"', '"/my/consumers"', '"/my/balances"', "/my/recharge-records",
                   "/my/withdraw-records", "sessionStorage", "Bearer ", "URLSearchParams", "depositoryUrl",
                   '"/#/callback"', "BankUserRegisterCallback", "NetSaveCallback", "RespCode"):
        assert needed in script + page, needed
    assert "innerHTML" not in script  # server text is only ever set as text
    # the free text of a result link (anyone can write one) is never shown
    assert "RespDesc" not in script and 'get("msg")' not in script


@pytest.mark.skipif(not shutil.which("node"), reason="no JavaScript engine to parse the script")
def test_the_script_parses():
    checked = subprocess.run(["node", "--check", str(STATIC_DIR / "app.js")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_openapi_documents_every_endpoint_with_bearer_auth(client):
    spec = client.get("/openapi.json").json
    assert {"/consumers", "/tokens", "/my/consumers", "/my/recharge-records", "/my/withdraw-records",
            "/my/balances"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["paths"]["/my/balances"]["get"]["security"] == [{"bearerAuth": []}]
    listing = spec["components"]["schemas"]["RechargeRecordsResponse"]["properties"]["result"]["oneOf"]
    assert {ref["$ref"].rsplit("/", 1)[1] for ref in listing} == {"RechargePage", "GatewayRequest"}
    assert "RechargePage" in spec["components"]["schemas"]


@pytest.mark.parametrize("path", ["/", "/assets/index.html", "/assets/app.js", "/assets/app.css"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_every_path_that_serves_the_web_app_carries_the_pages_protection(client, path, method):
    page = client.get("/")
    answer = client.open(path, method=method)
    assert answer.status_code == 200
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"):
        assert answer.headers.get(header) == page.headers[header], (path, header)
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Frame-Options"] == "DENY"
