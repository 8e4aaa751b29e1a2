"""The sandbox's page: orders and callbacks listed, forms that drive the partner calls, no script, no
frame, no cross-site form post, and no link but http(s)."""
import re

from psycopg.types.json import Jsonb

from tests.lending.conftest import new_person


def test_the_page_is_protected(client):
    page = client.get("/")
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script" not in page.get_data(as_text=True)


def test_an_order_pushed_from_the_form_is_listed_with_text_escaped(client, sandbox_db):
    person = new_person(name="<script>alert(1)</script>")
    response = client.post("/page/orders", data={**person, "loanAmount": "1000000", "loanTerm": "6"},
                           headers={"Origin": "http://localhost"})
    assert response.status_code == 303
    order_no = response.headers["Location"].split("#")[1]
    page = client.get("/").get_data(as_text=True)
    assert f'id="{order_no}"' in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert client.post(f"/page/orders/{order_no}/confirm").status_code == 303
    actions = sandbox_db.execute("select action from sim_actions where order_no = %s order by id", (order_no,))
    assert [row["action"] for row in actions] == ["order/push", "loan/confirm"]
    assert client.post(f"/page/orders/{order_no}/explode").status_code == 404
    assert client.post("/page/orders", data={**person, "loanAmount": "lots", "loanTerm": "6"}).status_code == 400


def test_a_form_posted_from_another_site_is_refused(client, sandbox_db):
    before = sandbox_db.execute("select count(*) as n from sim_orders").fetchone()["n"]
    response = client.post("/page/orders", data={**new_person(), "loanAmount": "1000000", "loanTerm": "6"},
                           headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    assert sandbox_db.execute("select count(*) as n from sim_orders").fetchone()["n"] == before


def test_only_http_links_are_shown(client, sandbox_db):
    order_no = "RS-LINKS-1"
    sandbox_db.execute("insert into sim_orders (order_no, name, mobile, id_number, loan_amount, loan_term)"
                       " values (%s, 'n', '13800138000', 'x', 1, 1) on conflict do nothing", (order_no,))
    for url in ("javascript:alert(1)", "http://127.0.0.1:8001/open-account/abc"):
        sandbox_db.execute("insert into sim_actions (order_no, action, http_status, answer) values (%s, 'loan/confirm',"
                           " 200, %s)", (order_no, Jsonb({"code": 0, "data": {"openAccountUrl": url}})))
    page = client.get("/").get_data(as_text=True)
    links = re.findall(r'class="open-account" href="([^"]*)"', page)
    assert "http://127.0.0.1:8001/open-account/abc" in links and not any("javascript" in link for link in links)


def test_an_orders_page_shows_lendings_state_and_an_unknown_order_is_404(client):
    response = client.post("/page/orders", data={**new_person(), "loanAmount": "1000000", "loanTerm": "6"})
    order_no = response.headers["Location"].split("#")[1]
    assert f'href="/page/orders/{order_no}"' in client.get("/").get_data(as_text=True)
    page = client.get(f"/page/orders/{order_no}")
    assert page.status_code == 200 and page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    text = page.get_data(as_text=True)
    shown = re.findall(r'<tr class="query" data-query="([^"]+)"><td>[^<]*</td><td class="code">([^<]*)</td>', text)
    assert [name for name, _ in shown] == ["audit/result", "loan/result", "repay/plan"]
    assert all(code.strip() for _, code in shown)  # lending's answer, or the sandbox's "no answer" code
    assert f'id="{order_no}"' in text and text.count('<section id="') == 1  # this order only
    assert "latest callbacks" not in text and "latest callbacks" in client.get("/").get_data(as_text=True)
    # its forms come back to it; the list's forms to the list
    assert text.count('<input type="hidden" name="back" value="order">') == 3
    assert 'name="back"' not in client.get("/").get_data(as_text=True)
    back = client.post(f"/page/orders/{order_no}/confirm", data={"back": "order"})
    assert back.status_code == 303 and back.headers["Location"] == f"/page/orders/{order_no}"
    assert client.post(f"/page/orders/{order_no}/confirm", data={"back": "//evil.example"}).headers["Location"] \
        == f"/#{order_no}"
    assert client.get("/page/orders/NO-SUCH-ORDER").status_code == 404
    assert client.get("/page/orders/%3Cscript%3E").get_data(as_text=True) == "no such order"


def test_the_forms_origin_reaches_the_page(client):
    # no-referrer made Chromium send "Origin: null" on the page's own form posts, and every one was refused
    assert client.get("/").headers["Referrer-Policy"] == "same-origin"
    refused = client.post("/page/orders", data={**new_person(), "loanAmount": "1000000", "loanTerm": "6"},
                          headers={"Origin": "null"})
    assert refused.status_code == 403  # a sandboxed frame of another site posts with Origin null
