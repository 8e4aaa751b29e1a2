"""bank-callback's OpenAPI document states the rules its callbacks are held to: this app's settings, the
fields each callback needs, and each signed field's format, neither stricter nor (where a pattern says it
all) looser than the service's own check."""
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bank_callback.bootstrap import dependencies
from bank_callback.huifu import FORMATS, NET_SAVE, USER_REGISTER
from tests.bank_callback.huifu_messages import netsave_fields, new_cust_id, register_fields

# The keywords the document's field rules use, all of which _breaks checks.
KEYWORDS = {"type", "enum", "pattern", "minLength", "maxLength", "not", "description"}


def _document(app) -> dict:
    return app.test_client().get("/openapi.json").get_json()


def _matches(pattern: str, value: str) -> bool:
    """An OpenAPI (ECMA-262) pattern anchored at both ends: the whole value matches its inside."""
    assert pattern.startswith("^") and pattern.endswith("$"), pattern
    return re.fullmatch(pattern[1:-1], value) is not None


def _breaks(fields: dict, form: dict) -> list[str]:
    """The documented rules ``fields`` break, [] when none."""
    broken = [f"{name}: required" for name in form["required"] if name not in fields]
    for name, value in fields.items():
        rule = form["properties"].get(name, {})
        assert set(rule) <= KEYWORDS, rule
        if ("enum" in rule and value not in rule["enum"]) or value in rule.get("not", {}).get("enum", []) \
                or ("pattern" in rule and not _matches(rule["pattern"], value)) \
                or not rule.get("minLength", 0) <= len(value) <= rule.get("maxLength", len(value)):
            broken.append(f"{name}: {value!r} against {rule}")
    return broken


def test_the_document_states_this_apps_settings(make_app):
    app = make_app(HUIFU_CALLBACK_URL="https://pay.example.com/huifu/", HUIFU_MER_CUST_ID="6000060000000099",
                   PLATFORM_NO="OURP2P", MAX_AMOUNT_FEN=500_000)
    document = _document(app)
    register, netsave = (document["components"]["schemas"][name]["properties"]
                         for name in ("UserRegisterForm", "NetSaveForm"))
    assert register["BgRetUrl"]["enum"] == ["https://pay.example.com/huifu/register"]
    assert register["RetUrl"]["enum"] == ["https://pay.example.com/huifu/RegisterCallback"]
    assert netsave["BgRetUrl"]["enum"] == ["https://pay.example.com/huifu/netsave"]
    assert netsave["RetUrl"]["enum"] == ["https://pay.example.com/huifu/NetSaveCallback"]
    assert register["MerCustId"]["enum"] == netsave["MerCustId"]["enum"] == ["6000060000000099"]
    assert register["UsrId"]["not"] == {"enum": ["OURP2P"]}
    assert "at most 5000.00" in netsave["TransAmt"]["description"]
    assert netsave["ChkValue"]["pattern"] == "^[0-9A-F]{512}$"  # a 2048-bit key: 512 hex digits
    assert register["CmdId"]["enum"] == ["UserRegister"] and netsave["RespCode"]["enum"] == ["000", "351", "999"]
    # a GET carries the fields in its query string, a POST in its form body: never documented in both
    for path in ("/RegisterCallback", "/NetSaveCallback"):
        operations = document["paths"][path]
        assert {parameter["name"] for parameter in operations["get"]["parameters"]} >= {"TrxId", "ChkValue"}
        assert "parameters" not in operations["post"] and operations["post"]["requestBody"]["required"]
    assert "parameters" not in document["paths"]["/register"]["post"]


def test_callbacks_the_service_accepts_conform_to_the_document(client, sign_register, sign_netsave):
    forms = _document(client.application)["components"]["schemas"]
    accepted = [("/register", "UserRegisterForm", sign_register(register_fields())),
                ("/register", "UserRegisterForm", sign_register(register_fields(RespCode="999", UsrCustId=""))),
                ("/netsave", "NetSaveForm", sign_netsave(netsave_fields(new_cust_id(), "0.01", MerPriv="x" * 120))),
                ("/netsave", "NetSaveForm", sign_netsave(netsave_fields(new_cust_id(), "1000000.00", RespCode="351")))]
    for path, form, fields in accepted:
        assert client.post(path, data=fields).status_code == 200, fields
        assert _breaks(fields, forms[form]) == []
    assert _breaks({**accepted[0][2], "UsrId": "WANXINP2P"}, forms["UserRegisterForm"])
    assert _breaks({name: value for name, value in accepted[2][2].items() if name != "OrdId"}, forms["NetSaveForm"])


def test_each_documented_pattern_is_the_services_format(default_app):
    """Fields whose format is a pattern (and, for UsrId, not PLATFORM_NO) are documented exactly: a value
    matches the document if and only if the service takes it. The others are documented no stricter."""
    verifier = dependencies(default_app).verifier
    forms = _document(default_app)["components"]["schemas"]
    # A failed registration: UsrCustId may then be empty, as its documented pattern says.
    read = {"RespCode": "999"}

    @settings(max_examples=300, deadline=None)
    @given(data=st.data())
    def check(data):
        command = data.draw(st.sampled_from([USER_REGISTER, NET_SAVE]))
        form = forms["UserRegisterForm" if command is USER_REGISTER else "NetSaveForm"]
        name = data.draw(st.sampled_from([name for name in command.signed_fields
                                          if "pattern" in form["properties"][name]]))
        rule = form["properties"][name]
        value = data.draw(st.one_of(st.from_regex(rule["pattern"][1:-1], fullmatch=True),
                                    st.text(alphabet="0123456789.-_aZ٣ \n", max_size=32), st.text()))
        accepted = FORMATS[name](value, read, verifier.rules(command)) is None
        documented = not _breaks({name: value}, {"required": [], "properties": {name: rule}})
        if name in ("UsrId", "UsrCustId", "OrdId", "TrxId"):
            assert documented == accepted, (name, value)
        else:  # OrdDate's window, TransAmt's range and MerPriv's printable characters are in the descriptions
            assert documented or not accepted, (name, value)

    check()
