"""The common web shell: error envelopes, validation as 400, request ids, health, auth, body limit."""
import io

import marshmallow as ma
import pytest
from flask import jsonify

from shared.auth import require_service_token
from shared.errors import Conflict
from shared.web import Blueprint, add_ready_check, create_base_app, refuse_head, request_data


class EchoSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(max=5))


def _app(envelope="plain", ready=True):
    app = create_base_app("test", {"INTERNAL_TOKENS": ("secret-token",), "MAX_CONTENT_LENGTH": 1024,
                                   "LOG_LEVEL": "WARNING"}, "test", envelope=envelope)
    bp = Blueprint("t", __name__)

    @bp.post("/echo")
    @bp.arguments(EchoSchema)
    def echo(args):
        return jsonify(args)

    @bp.get("/search")
    @bp.arguments(EchoSchema, location="query")
    def search(args):
        return jsonify(args)

    @bp.get("/conflict")
    def conflict():
        raise Conflict("already there")

    @bp.route("/data", methods=["GET", "POST"])
    def data():
        return jsonify(request_data())

    @bp.get("/boom")
    def boom():
        raise RuntimeError("bug")

    internal = Blueprint("internal", __name__, url_prefix="/l")
    internal.before_request(require_service_token)

    @internal.get("/x")
    def x():
        return jsonify(ok=True)

    app.extensions["api"].register_blueprint(bp)
    app.extensions["api"].register_blueprint(internal)

    def failing():
        raise ConnectionError("nope")

    if not ready:
        add_ready_check(app, "database", failing)
    return app


def test_validation_errors_are_400_with_reason():
    client = _app().test_client()
    response = client.post("/echo", json={"name": "toolong"})
    assert response.status_code == 400
    assert response.json["code"] == 903
    assert "name" in response.json["msg"]
    assert client.post("/echo", json={"name": "ok"}).json == {"name": "ok"}


@pytest.mark.parametrize("envelope,keys", [("plain", {"code", "msg"}), ("rest", {"code", "msg", "result"})])
def test_error_envelopes(envelope, keys):
    response = _app(envelope).test_client().get("/conflict")
    assert response.status_code == 409
    assert set(response.json) == keys
    assert response.json["msg"] == "already there"


def test_unknown_route_method_and_large_body():
    client = _app().test_client()
    assert client.get("/missing").status_code == 404
    wrong_method = client.get("/echo")
    assert wrong_method.json["code"] == 905
    assert "POST" in wrong_method.headers["Allow"]
    response = client.post("/echo", data="x" * 5000, content_type="application/json")
    assert response.status_code == 413


def test_unexpected_error_is_500_without_details():
    response = _app().test_client().get("/boom")
    assert response.status_code == 500
    assert response.json == {"code": 999, "msg": "internal error"}


def test_request_id_is_echoed_or_made():
    client = _app().test_client()
    assert client.get("/healthz", headers={"X-Request-Id": "abc123"}).headers["X-Request-Id"] == "abc123"
    assert len(client.get("/healthz").headers["X-Request-Id"]) == 32


def test_request_data_merges_query_and_body():
    client = _app().test_client()
    assert client.get("/data?a=1").json == {"a": "1"}
    assert client.post("/data?a=1", json={"b": 2}).json == {"a": "1", "b": 2}
    assert client.post("/data", data={"c": "3"}).json == {"c": "3"}
    assert client.post("/data", data="[1]", content_type="application/json").status_code == 400


def test_service_token_required():
    client = _app().test_client()
    assert client.get("/l/x").status_code == 401
    assert client.get("/l/x", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/l/x", headers={"Authorization": "Basic secret-token"}).status_code == 401
    assert client.get("/l/x", headers={"Authorization": "Bearer secret-token"}).json == {"ok": True}


def test_readyz_reports_failing_dependency_without_its_details(capsys):
    assert _app().test_client().get("/readyz").status_code == 200
    response = _app(ready=False).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "failures": {"database": "unavailable"}}
    assert "nope" not in response.get_data(as_text=True)
    assert "not ready: database: nope" in capsys.readouterr().err  # logged for the operator


def test_json_answers_are_no_store_unless_the_view_says_otherwise():
    client = _app().test_client()
    for response in (client.get("/healthz"), client.get("/conflict"), client.get("/boom"), client.get("/missing"),
                     client.post("/echo", json={"name": "ok"})):
        assert response.headers["Cache-Control"] == "no-store", response.request.path
    assert "Cache-Control" not in client.get("/docs").headers  # HTML: the browser may keep the UI


def test_request_data_refuses_a_name_given_twice():
    client = _app().test_client()
    for response in (client.get("/data?a=1&a=2"), client.post("/data", data="c=3&c=3",
                                                              content_type="application/x-www-form-urlencoded")):
        assert response.status_code == 400 and response.json["msg"].endswith(": given more than once")
    assert client.post("/data?a=1", data={"a": "2"}).json == {"a": "2"}  # the body wins over the query


def test_webargs_refuses_a_single_valued_field_given_twice():
    client = _app().test_client()
    for response in (client.get("/search?name=a&name=b"),
                     client.post("/echo", data=b'{"name": "a", "name": "b"}', content_type="application/json")):
        assert response.status_code == 400 and response.json["msg"] == "invalid input: name: given more than once"
    assert client.get("/search?name=a&other=1&other=2").json == {"name": "a"}  # unread names may repeat


def test_multipart_bodies_are_refused():
    response = _app().test_client().post("/data", data={"c": "3", "f": (io.BytesIO(b"x"), "f.txt")},
                                         content_type="multipart/form-data")
    assert response.status_code == 400 and "multipart" in response.json["msg"]


def test_head_is_refused_where_a_blueprint_says_so():
    app = create_base_app("test", {"INTERNAL_TOKENS": (), "LOG_LEVEL": "WARNING"}, "test")
    bp = Blueprint("writes", __name__)
    bp.before_request(refuse_head)
    calls = []

    @bp.route("/write", methods=["GET", "POST"])
    def write():
        calls.append(1)
        return jsonify(ok=True)

    app.extensions["api"].register_blueprint(bp)
    response = app.test_client().head("/write")
    assert (response.status_code, response.headers["Allow"], calls) == (405, "GET, POST", [])
    assert app.test_client().get("/write").status_code == 200 and calls == [1]


def test_openapi_and_docs_are_served():
    client = _app().test_client()
    spec = client.get("/openapi.json").json
    assert "/echo" in spec["paths"]
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize("envelope,fields", [("plain", {"code", "msg"}), ("rest", {"code", "msg", "result"})])
def test_documented_error_schema_is_the_real_envelope(envelope, fields):
    spec = _app(envelope).test_client().get("/openapi.json").json
    schemas = spec["components"]["schemas"]
    error = next(body for name, body in schemas.items() if name.endswith("Error"))
    assert set(error["properties"]) == fields


@pytest.mark.parametrize("header,accepted", [
    ("Bearer secret-token", True), ("bearer secret-token", True), ("Bearer  secret-token ", True),
    ("Bearer other", False), ("Basic secret-token", False), ("secret-token", False), ("", False), ("Bearer ", False),
])
def test_token_accepted(header, accepted):
    from shared.auth import token_accepted

    assert token_accepted(header, ("secret-token", "second")) is accepted
