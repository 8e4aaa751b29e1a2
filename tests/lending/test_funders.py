"""Where lending's funders come from: FUNDER_USER_NOS, else the file FUNDER_USER_NOS_FILE that `make run` writes
once it has opened the funder, read again at every disbursement pass (lending starts before the funder exists)."""
import uuid

import pytest

from tests.lending.conftest import borrow_of, borrow_with_open_account, review_pending
from tests.support.waiting import wait_for

from lending import call_settlement, config as lending_config, disbursement
from lending.bootstrap import build
from lending.repository import borrows


def user_no() -> str:
    return "USR_" + uuid.uuid4().hex.upper()


def settings(**values) -> dict:
    return {"FUNDER_USER_NOS": (), "FUNDER_USER_NOS_FILE": "", **values}


def test_the_list_wins_over_the_file_and_no_file_means_no_funder(tmp_path):
    listed, written = user_no(), user_no()
    (tmp_path / "funders").write_text(written + "\n")
    assert lending_config.funders(settings(FUNDER_USER_NOS=(listed,), FUNDER_USER_NOS_FILE=str(tmp_path / "funders"))) \
        == (listed,)
    assert lending_config.funders(settings(FUNDER_USER_NOS_FILE=str(tmp_path / "funders"))) == (written,)
    assert lending_config.funders(settings(FUNDER_USER_NOS_FILE=str(tmp_path / "none yet"))) == ()
    assert lending_config.funders(settings()) == ()


def test_the_file_is_read_again_and_takes_lines_or_commas(tmp_path):
    path, first, second, third = tmp_path / "funders", user_no(), user_no(), user_no()
    path.write_text(first)
    config = settings(FUNDER_USER_NOS_FILE=str(path))
    assert lending_config.funders(config) == (first,)
    path.write_text(f" {first}\r\n{second}, {third}\n\n")
    assert lending_config.funders(config) == (first, second, third)


@pytest.mark.parametrize("text", ["usr_" + "A" * 32, "USR_" + "a" * 32, "USR_" + "A" * 31, "USR_" + "A" * 33,
                                  "USR_" + "A" * 32 + ";rm", "REQ_" + "A" * 32, "\x00", "USR_" + "Ａ" * 32])
def test_a_file_holding_anything_but_user_nos_is_refused_and_says_which_setting(tmp_path, text):
    path = tmp_path / "funders"
    path.write_text(f"{user_no()}\n{text}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="FUNDER_USER_NOS_FILE"):
        lending_config.funders(settings(FUNDER_USER_NOS_FILE=str(path)))


def test_a_malformed_funder_list_stops_start_up(monkeypatch):
    monkeypatch.setenv("FUNDER_USER_NOS", f"{user_no()},USR_nothex")
    with pytest.raises(ValueError, match="FUNDER_USER_NOS must hold userNos"):
        lending_config.load()
    monkeypatch.setenv("FUNDER_USER_NOS", f" {user_no()} ,")
    assert len(lending_config.load()["FUNDER_USER_NOS"]) == 1


def test_a_borrow_waits_for_a_funder_and_goes_out_once_the_file_names_one(config, deps, partner, users, funder, db,
                                                                          tmp_path):
    path = tmp_path / "funder_user_nos"
    waiting = build({**config, "FUNDER_USER_NOS": (), "FUNDER_USER_NOS_FILE": str(path)}, "lending-funder-file")
    try:
        order_no, _ = borrow_with_open_account(deps, partner, users)
        review_pending(deps)
        assert borrow_of(db, order_no)["status"] == borrows.APPROVED
        call_settlement.send_all(waiting, disbursement.start_due(waiting))
        borrow = borrow_of(db, order_no)
        assert borrow["status"] == borrows.APPROVED and "no funder" in borrow["last_error"]
        path.write_text(funder + "\n")
        wait_for(lambda: call_settlement.send_all(waiting, disbursement.start_due(waiting)) or
                 borrow_of(db, order_no)["status"] == borrows.DISBURSED, timeout=20, what="the disbursement")
        assert borrow_of(db, order_no)["funder_user_no"] == funder
    finally:
        waiting.close()
