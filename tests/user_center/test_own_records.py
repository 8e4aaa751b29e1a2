"""One record by its requestNo (what the result page polls): the user's own only, the platform's state."""
import pytest

from tests.user_center.conftest import CALLBACK, request_no_of


@pytest.mark.parametrize("kind, service", [("recharge", "RECHARGE"), ("withdraw", "WITHDRAW")])
def test_a_user_reads_the_state_of_an_own_request_and_nobody_elses(funded_user, settle, kind, service, client):
    alice, bob = funded_user(), funded_user()
    request_no = request_no_of(alice.post(f"/my/{kind}-records", {"amount": "12.30", "callbackUrl": CALLBACK})
                               .json["result"])
    path = f"/my/{kind}-records/{request_no}"
    pending = alice.get(path)
    assert pending.status_code == 200
    assert pending.json["result"]["requestNo"] == request_no and pending.json["result"]["callbackStatus"] == 0
    assert pending.json["result"]["amount"] == "12.30"
    assert ("commission" in pending.json["result"]) == (kind == "withdraw")
    settle(service, request_no, True, "12.30")
    assert alice.get(path).json["result"]["callbackStatus"] == 1

    stranger = bob.get(path)  # another user's request looks exactly like one that does not exist
    unknown = alice.get(f"/my/{kind}-records/REQ_{'0' * 32}")
    assert stranger.status_code == unknown.status_code == 404 and stranger.json == unknown.json
    for malformed in ("req_" + request_no[4:].lower(), request_no + "0", "..", "REQ_%s" % ("G" * 32)):
        assert alice.get(f"/my/{kind}-records/{malformed}").status_code == 404, malformed
    assert alice.get(f"/my/{kind}-records/%00").status_code == 400  # NUL is refused in every input
    assert client.get(path).status_code == 401  # no token
    other_kind = "withdraw" if kind == "recharge" else "recharge"
    assert alice.get(f"/my/{other_kind}-records/{request_no}").status_code == 404
