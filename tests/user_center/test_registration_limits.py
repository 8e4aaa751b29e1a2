"""POST /consumers tells registered mobiles apart and costs a 16 MiB scrypt: it is limited per mobile and
per client address, with a 429 and Retry-After, and a refused attempt stores nothing."""
import uuid

import pytest

from tests.user_center.conftest import new_mobile

from user_center.bootstrap import create_app

PASSWORD = "secret-pass-1"


@pytest.fixture(scope="module")
def limited(infra, ledger, agent):
    return create_app(infra.config(
        "user_center", LEDGER_URL=ledger.url, DEPOSITORY_AGENT_URL=agent.url, REGISTER_MAX_PER_MOBILE=2,
        REGISTER_MAX_PER_ADDRESS=3, REDIS_PREFIX=f"{infra.redis_prefix}{uuid.uuid4().hex[:6]}:"))


def register(app, mobile: str, address: str, password: str = PASSWORD):
    return app.test_client().post("/consumers", json={"mobile": mobile, "password": password},
                                  environ_base={"REMOTE_ADDR": address})


def stored(db, mobile: str) -> int:
    return db.execute("select count(*) as n from consumer where mobile = %s", (mobile,)).fetchone()["n"]


def test_probing_one_mobile_is_limited(limited, db):
    mobile = new_mobile()
    assert register(limited, mobile, "10.3.0.1").status_code == 201
    assert register(limited, mobile, "10.3.0.2").status_code == 409  # a probe from elsewhere
    refused = register(limited, mobile, "10.3.0.3")
    assert refused.status_code == 429 and refused.json["code"] == 929 and refused.json["result"] is None
    assert "mobile" in refused.json["msg"] and 0 < int(refused.headers["Retry-After"]) <= 3600
    assert stored(db, mobile) == 1
    # a refusal reveals nothing: an unregistered mobile probed as often is refused the same way
    unknown = new_mobile()
    for address in ("10.3.0.4", "10.3.0.5"):
        assert register(limited, unknown, address, password="x").status_code == 400  # invalid: not counted
    assert register(limited, unknown, "10.3.0.6").status_code == 201


def test_one_address_enumerating_mobiles_is_limited(limited, db):
    for _ in range(3):
        assert register(limited, new_mobile(), "10.3.1.1").status_code in (201, 409)
    mobile = new_mobile()
    refused = register(limited, mobile, "10.3.1.1")
    assert refused.status_code == 429 and "address" in refused.json["msg"] and int(refused.headers["Retry-After"]) > 0
    assert stored(db, mobile) == 0  # nothing stored, nothing hashed
    assert register(limited, mobile, "10.3.1.2").status_code == 201  # from another address


def test_the_429_is_documented(limited):
    spec = limited.test_client().get("/openapi.json").json
    answers = spec["paths"]["/consumers"]["post"]["responses"]
    assert "429" in answers and "Retry-After" in answers["429"]["headers"]
