"""Projects (CREATE_PROJECT, MODIFY_PROJECT) against the real sandbox over HTTP: who may borrow, one
project per projectNo, the fields' one format, and the status moving forward only."""
import pytest

from tests.bank_sandbox.conftest import fetch_one

CREATE, MODIFY = "CREATE_PROJECT", "MODIFY_PROJECT"


def test_a_project_is_created_once_for_a_depository_user(sandbox, platform, pool):
    borrower = sandbox.open_user()
    project = platform.project(borrower, "2500.50", annualRate="0.075", repaymentWay="FIXED_CAPITAL", projectPeriod=24)
    assert sandbox.code(CREATE, project) == "00000"
    row = fetch_one(pool, "select * from projects where project_no = %s", project["projectNo"])
    assert (row["user_no"], row["project_amount"], row["project_period"], str(row["annual_rate"]),
            row["repayment_way"], row["status"], row["project_name"]) == \
        (borrower, 250050, 24, "0.075000", "FIXED_CAPITAL", "COLLECTING", "借款 ORD-1")
    again = platform.project(borrower, "1.00", projectNo=project["projectNo"])
    assert sandbox.code(CREATE, again) == "00003"  # the projectNo exists
    assert sandbox.code(CREATE, platform.project(platform.user_no())) == "00003"  # no depository account
    assert fetch_one(pool, "select count(*) from projects where project_no = %s", project["projectNo"])["count"] == 1


@pytest.mark.parametrize("field, value", [
    ("annualRate", "0.180"), ("annualRate", ".18"), ("annualRate", "18%"), ("annualRate", "1.5"),
    ("annualRate", 0.18), ("annualRate", "0.1234567"), ("annualRate", "-0.1"),
    ("projectPeriod", "12"), ("projectPeriod", 0), ("projectPeriod", 12.0), ("projectPeriod", True),
    ("projectPeriod", 361), ("projectAmount", "1000"), ("projectAmount", "0.00"), ("projectAmount", 1000),
    ("projectAmount", "1000000.01"), ("repaymentWay", "fixed_repayment"), ("projectNo", "PRJ 1"),
    ("projectNo", "P" * 65), ("projectName", ""), ("projectName", "a\nb"), ("userNo", "USR_abc"),
])
def test_a_field_in_another_format_is_refused_signed_and_recorded_nowhere(sandbox, platform, pool, field, value):
    project = platform.project(platform.user_no(), **{field: value})  # checked before the borrower is looked up
    status, result = sandbox.call(CREATE, project)
    assert (status, result["respCode"], result["status"], result["requestNo"]) == \
        (400, "00003", 2, project["requestNo"])
    assert field in result["respMsg"]
    assert fetch_one(pool, "select count(*) from bank_requests where request_no = %s",
                     project["requestNo"])["count"] == 0
    assert sandbox.query(project["requestNo"]).status_code == 404


def test_a_project_moves_forward_only(sandbox, platform, pool):
    project_no = sandbox.project(sandbox.open_user())
    steps = [("FULLY", "00000"), ("COLLECTING", "00000"), ("CLEARED", "00003"), ("REPAYING", "00000"),
             ("REPAYING", "00000"), ("MISCARRY", "00003"), ("COLLECTING", "00003"), ("CLEARED", "00000"),
             ("REPAYING", "00003")]
    for status, code in steps:
        assert sandbox.code(MODIFY, platform.project_status(project_no, status)) == code, status
    assert fetch_one(pool, "select status from projects where project_no = %s", project_no)["status"] == "CLEARED"
    assert sandbox.code(MODIFY, platform.project_status(platform.project_no(), "FULLY")) == "00003"
    miscarried = sandbox.project(sandbox.open_user())
    assert sandbox.code(MODIFY, platform.project_status(miscarried, "MISCARRY")) == "00000"
    assert sandbox.code(MODIFY, platform.project_status(miscarried, "COLLECTING")) == "00003"
