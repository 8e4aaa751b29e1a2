"""The command's exit code when a source cannot be read: 2, nothing written, nothing changed."""
from tests.support.processes import run_module


def test_an_unreachable_bank_makes_the_run_incomplete(infra, tmp_path):
    env = infra.service_env("depository_agent", BANK_SANDBOX_URL="http://127.0.0.1:9")
    csv_path = tmp_path / "out.csv"
    done = run_module("depository_agent", "reconcile", "--date", "2024-02-29", "--csv", str(csv_path), env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "incomplete: bank statement unreachable" in done.stderr
    assert not csv_path.exists()


def test_a_bad_date_is_refused_by_the_parser(infra):
    done = run_module("depository_agent", "reconcile", "--date", "2024-13-01",
                      env=infra.service_env("depository_agent"))
    assert done.returncode == 2 and "invalid" in done.stderr


def test_yesterday_is_the_business_day_before_today_in_the_configured_zone():
    from datetime import date, datetime, timezone

    from depository_agent.reconciliation.run import business_day

    late_evening_utc = datetime(2026, 11, 21, 17, 30, tzinfo=timezone.utc)  # 01:30 on the 22nd in Shanghai
    assert business_day("yesterday", "Asia/Shanghai", late_evening_utc) == date(2026, 11, 21)
    assert business_day("yesterday", "UTC", late_evening_utc) == date(2026, 11, 20)
    assert business_day(date(2024, 2, 29), "UTC", late_evening_utc) == date(2024, 2, 29)


def test_the_scheduled_form_runs_yesterday(infra, tmp_path):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    env = infra.service_env("depository_agent", BANK_SANDBOX_URL="http://127.0.0.1:9")

    def yesterday() -> str:
        return (datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(days=1)).date().isoformat()

    before = yesterday()
    done = run_module("depository_agent", "reconcile", "--date", "yesterday", "--csv", str(tmp_path / "out.csv"),
                      env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert any(f"reconciliation of {day} incomplete" in done.stderr for day in {before, yesterday()}), done.stderr
