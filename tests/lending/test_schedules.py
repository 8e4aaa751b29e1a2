"""Schedules, accrued interest, penalties and quotes, against a simple exact model; and no float anywhere."""
import sys
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.contract import ALL_PERIODS, FIXED_CAPITAL, FIXED_REPAYMENT

from lending import schedules
from lending.schedules import Installment, SelectionError, quote, schedule

WAYS = st.sampled_from([FIXED_REPAYMENT, FIXED_CAPITAL])
RATES = st.integers(0, 3600).map(lambda basis_points: Fraction(basis_points, 10_000))  # 0% .. 36% a year
DAYS = st.dates(date(2000, 1, 1), date(2090, 12, 31))


def model(principal: int, term: int, annual: Fraction, way: str) -> list[tuple[int, int]]:
    """The SPEC's rules written out plainly: (principal, interest) per period."""
    r = annual / 12

    def rnd(x: Fraction) -> int:  # half up
        return int((x + Fraction(1, 2)) // 1)

    rows, balance = [], principal
    if way == FIXED_CAPITAL:
        for k in range(term):
            part = principal // term + (1 if k < principal % term else 0)
            rows.append((part, rnd(balance * r)))
            balance -= part
        return rows
    growth = (1 + r) ** term
    installment = rnd(Fraction(principal, term)) if r == 0 else rnd(principal * r * growth / (growth - 1))
    for k in range(term):
        interest = rnd(balance * r)
        part = balance if k == term - 1 else min(max(installment - interest, 0), balance)
        rows.append((part, interest))
        balance -= part
    return rows


@settings(max_examples=400, deadline=None)
@given(principal=st.integers(1, 10**10), term=st.integers(1, 60), annual=RATES, way=WAYS, start=DAYS)
def test_the_plan_is_the_model_and_covers_the_loan_exactly(principal, term, annual, way, start):
    plan = schedule(principal, term, annual, way, start)
    assert [(p.principal, p.interest) for p in plan] == model(principal, term, annual, way)
    assert sum(p.principal for p in plan) == principal
    assert all(p.principal >= 0 and p.interest >= 0 for p in plan)
    assert [p.period for p in plan] == list(range(1, term + 1))
    assert all(p.start_date < p.due_date for p in plan)
    assert all(later.start_date == earlier.due_date for earlier, later in zip(plan, plan[1:]))


@settings(max_examples=200, deadline=None)
@given(principal=st.integers(100_000, 10**9), term=st.integers(3, 24), annual=RATES, start=DAYS)
def test_equal_installments_are_equal_but_for_the_last(principal, term, annual, start):
    plan = schedule(principal, term, annual, FIXED_REPAYMENT, start)
    totals = {p.total for p in plan[:-1]}
    assert len(totals) == 1
    assert abs(plan[-1].total - plan[0].total) <= term  # the rounding of each period, at most


def test_a_known_plan():
    plan = schedule(1_000_000, 12, Fraction(18, 100), FIXED_REPAYMENT, date(2024, 1, 31))
    assert plan[0].total == 91_680 and plan[0].interest == 15_000
    assert [p.due_date for p in plan[:3]] == [date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30)]
    assert plan[-1].due_date == date(2025, 1, 31)
    capital = schedule(1_000_000, 12, Fraction(18, 100), FIXED_CAPITAL, date(2024, 1, 31))
    assert [p.principal for p in capital[:5]] == [83_334, 83_334, 83_334, 83_334, 83_333]


@given(start=DAYS, months=st.integers(1, 400))
def test_due_dates_keep_the_day_clamped_to_the_month_end(start, months):
    due = schedules.due_date(start, months)
    assert (due.year * 12 + due.month) - (start.year * 12 + start.month) == months
    assert due.day == start.day or (due.day < start.day and (due + timedelta(days=1)).day == 1)


@settings(max_examples=300, deadline=None)
@given(principal=st.integers(1, 10**9), term=st.integers(1, 36), annual=RATES, way=WAYS, start=DAYS,
       offset=st.integers(-40, 40 * 31), paid=st.integers(0, 36))
def test_early_settlement_never_charges_interest_past_today(principal, term, annual, way, start, offset, paid):
    plan = schedule(principal, term, annual, way, start)
    today = start + timedelta(days=offset)
    items = [Installment(p, paid=p.period <= paid) for p in plan]
    if all(item.paid for item in items):
        with pytest.raises(SelectionError):
            quote(items, ALL_PERIODS, today, Fraction(5, 10_000), 3)
        return
    settled = quote(items, ALL_PERIODS, today, Fraction(0), 0)
    unpaid = [item.period for item in items if not item.paid]
    assert settled.principal == sum(p.principal for p in unpaid)
    for part, period in zip(settled.parts, unpaid):
        if today <= period.start_date:
            assert part.interest == 0  # a period not begun costs no interest
        elif today >= period.due_date:
            assert part.interest == period.interest
        else:  # pro rata by days, never more than the days elapsed
            elapsed = Fraction((today - period.start_date).days, (period.due_date - period.start_date).days)
            assert part.interest <= period.interest * elapsed + Fraction(1, 2)
            assert part.interest >= period.interest * elapsed - Fraction(1, 2)
    assert settled.interest <= sum(p.interest for p in unpaid if p.start_date < today)


def test_settling_on_the_disbursement_day_charges_no_interest():
    plan = schedule(1_000_000, 6, Fraction(18, 100), FIXED_REPAYMENT, date(2024, 3, 10))
    settled = quote([Installment(p) for p in plan], ALL_PERIODS, date(2024, 3, 10), Fraction(5, 10_000), 3)
    assert (settled.principal, settled.interest, settled.penalty) == (1_000_000, 0, 0)
    halfway = quote([Installment(p) for p in plan], ALL_PERIODS, date(2024, 3, 25), Fraction(5, 10_000), 3)
    assert halfway.interest == schedules.round_half_up(Fraction(plan[0].interest * 15, 31))


@given(unpaid=st.integers(0, 10**9), days=st.integers(0, 400), grace=st.integers(0, 10),
       rate=st.integers(0, 100).map(lambda n: Fraction(n, 10_000)))
def test_penalty_after_the_grace_period_rounded_half_up(unpaid, days, grace, rate):
    expected = 0 if days <= grace else int(unpaid * rate * days + Fraction(1, 2))
    assert schedules.penalty(unpaid, rate, days, grace) == expected


def test_penalties_on_overdue_periods_and_the_waiver():
    plan = schedule(600_000, 3, Fraction(12, 100), FIXED_CAPITAL, date(2024, 1, 15))
    today = date(2024, 2, 25)  # period 1 is 10 days late
    items = [Installment(p) for p in plan]
    late = quote(items, [1], today, Fraction(5, 10_000), 3)
    assert late.penalty == 1_000 and late.principal == 200_000 and late.interest == 6_000
    assert quote(items, [1], today, Fraction(5, 10_000), 10).penalty == 0
    waived = [Installment(plan[0], penalty_waived=True), *items[1:]]
    assert quote(waived, [1], today, Fraction(5, 10_000), 3).penalty == 0


def test_periods_must_be_the_earliest_unpaid_and_started():
    plan = schedule(600_000, 3, Fraction(12, 100), FIXED_CAPITAL, date(2024, 1, 15))
    items = [Installment(plan[0], paid=True), Installment(plan[1]), Installment(plan[2])]
    day = date(2024, 2, 20)
    assert quote(items, [2], day, Fraction(0), 3).principal == 200_000
    with pytest.raises(SelectionError, match="earliest"):
        quote(items, [3], day, Fraction(0), 3)
    with pytest.raises(SelectionError, match="earliest"):
        quote(items, [1, 2], day, Fraction(0), 3)
    with pytest.raises(SelectionError, match="not started"):
        quote(items, [2, 3], day, Fraction(0), 3)
    for bad in ([], [2, 2], [True], "some", [2.0]):
        with pytest.raises(SelectionError) as refused:
            quote(items, bad, day, Fraction(0), 3)
        assert refused.value.malformed


@given(value=st.floats(allow_nan=True, allow_infinity=True))
def test_a_float_is_refused_wherever_it_enters(value):
    for call in (lambda: schedule(1_000_000, 6, value, FIXED_REPAYMENT, date(2024, 1, 1)),
                 lambda: schedules.service_fee(1_000_000, value),
                 lambda: schedules.penalty(1_000, value, 10, 3),
                 lambda: schedules.round_half_up(value)):
        with pytest.raises(TypeError):
            call()
    with pytest.raises(TypeError):
        schedule(value, 6, Fraction(18, 100), FIXED_REPAYMENT, date(2024, 1, 1))
    with pytest.raises(TypeError):
        schedules.exact(Decimal("NaN"))


def _no_float_in(module_name: str):
    """A tracer recording the functions of ``module_name`` it enters (``calls``) and any float their
    locals or return values hold (``seen``)."""
    seen, calls = [], []

    def tracer(frame, event, arg):
        if frame.f_globals.get("__name__") != module_name:
            return None
        calls.append(frame.f_code.co_name)

        def local_tracer(frame, event, arg):
            for name, value in frame.f_locals.items():
                if isinstance(value, float) or (event == "return" and isinstance(arg, float)):
                    seen.append((frame.f_code.co_name, name, value))
            return local_tracer
        return local_tracer
    return tracer, seen, calls


def test_no_float_reaches_the_schedule_code_through_the_api(partner):
    """The trial endpoint runs the whole money path (rates from configuration, fee, plan) under a tracer
    that records any float held by the schedule code."""
    tracer, seen, calls = _no_float_in("lending.schedules")
    sys.settrace(tracer)
    try:
        trial = partner.ok("loan/trial", {"loanAmount": 1_234_567, "loanTerm": 12})
    finally:
        sys.settrace(None)
    assert sum(plan["principal"] for plan in trial["plans"]) == 1_234_567
    assert trial["serviceFee"] == 24_691  # 2 % of 1,234,567 fen, half up
    assert {"schedule", "service_fee", "round_half_up", "exact"} <= set(calls)
    assert seen == []
