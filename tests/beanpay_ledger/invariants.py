"""The ledger's invariants, checked from the database itself (used after every stressful test)."""


def assert_invariants(conn) -> None:
    """Balance = sum of records, balance + credit >= 0, trade numbers once, refunds within deducts."""
    rows = conn.execute(
        "select a.eid, a.balance, coalesce(sum(r.amount), 0) from account a"
        " left join account_record r using (account_id) group by a.account_id"
        " having a.balance <> coalesce(sum(r.amount), 0)").fetchall()
    assert rows == [], f"balance differs from the sum of records: {rows[:5]}"
    assert conn.execute("select count(*) from account where balance + credit < 0").fetchone()[0] == 0
    assert conn.execute("select count(*) from (select 1 from account_record group by account_id, change_type,"
                        " trade_no having count(*) > 1) d").fetchone()[0] == 0
    over = conn.execute(
        "select d.trade_no from account_record d join account_record f on f.account_id = d.account_id"
        " and f.trade_no = d.trade_no and f.change_type = 3 where d.change_type = 2"
        " and (f.amount > -d.amount or d.refunded <> f.amount)").fetchall()
    assert over == [], f"refunds above their deduct: {over[:5]}"
    orphans = conn.execute(
        "select f.trade_no from account_record f where f.change_type = 3 and not exists (select 1 from"
        " account_record d where d.account_id = f.account_id and d.change_type = 2 and d.trade_no = f.trade_no)"
    ).fetchall()
    assert orphans == [], f"refunds without a deduct: {orphans[:5]}"
    pkg = conn.execute(
        "select p.spkg_id from package p left join package_record r using (package_id) group by p.package_id"
        " having p.total_remain <> coalesce(sum(r.num), 0)").fetchall()
    assert pkg == [], f"package remain differs from its records: {pkg[:5]}"
