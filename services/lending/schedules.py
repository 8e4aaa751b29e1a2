"""Repayment arithmetic in exact fen: schedules, interest accrued up to a day, penalties, what is due.

Only ``int``, ``Fraction`` and ``datetime.date`` are used; a ``float`` handed in is refused with
``TypeError`` (``Decimal`` is turned into the exact ``Fraction`` it denotes), so binary floating point
can never reach an amount. Rounding is always half up, on exact fractions.

- Periods are monthly at ``annual_rate / 12``; period k is due k months after the disbursement
  day, on the same day of the month clamped to the month's end (31 January -> 28/29 February).
- 等额本息 (FIXED_REPAYMENT): installment = round(P·r·(1+r)^n / ((1+r)^n − 1)); interest_k =
  round(balance·r); principal_k = installment − interest_k; the last period takes the remaining
  principal. 等额本金 (FIXED_CAPITAL): principal ⌊P/n⌋ with the remainder fen spread one by one over
  the first periods; interest on the remaining balance. Σ principal = P always.
- Interest accrued on day ``today`` in a period that started on ``start`` and is due on ``due``:
  round(the period's scheduled interest · (today − start) / (due − start)); all of it from the due
  date on, nothing before the period starts.
- Penalty of an unpaid period: round(unpaid principal · rate per day · days past the due date),
  charged only once those days exceed the grace period (and never when an operator waived it).
- Every date is a business day in LENDING_TIMEZONE (China Standard Time by default): due dates, ages,
  re-apply limits (:func:`today`, :func:`local_date`).
"""
import calendar
import math
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Iterable
from zoneinfo import ZoneInfo

from shared.contract import ALL_PERIODS, FIXED_CAPITAL, FIXED_REPAYMENT

def today(config: dict) -> date:
    """Today in the lending time zone."""
    return datetime.now(ZoneInfo(config["LENDING_TIMEZONE"])).date()


def local_date(config: dict, moment: datetime) -> date:
    """The lending time zone's date of an aware ``moment``."""
    return moment.astimezone(ZoneInfo(config["LENDING_TIMEZONE"])).date()


def exact(value) -> Fraction:
    """``value`` as an exact fraction; ``TypeError`` for a float (or a bool, or anything else)."""
    if isinstance(value, bool) or not isinstance(value, (int, Fraction, Decimal)):
        raise TypeError(f"money arithmetic takes int, Fraction or Decimal, not {type(value).__name__}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise TypeError("money arithmetic takes finite numbers only")
    return Fraction(value)


def _fen(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"amounts are whole fen (int), not {type(value).__name__}")
    return value


def round_half_up(value: Fraction) -> int:
    """The nearest integer, halves away from zero (amounts are never negative here)."""
    value = exact(value)
    if value < 0:
        raise ValueError("amounts are never negative")
    return math.floor(value + Fraction(1, 2))


def service_fee(amount: int, fee_rate) -> int:
    """The platform's fee on a loan: round(amount · rate)."""
    return round_half_up(_fen(amount) * exact(fee_rate))


def monthly_rate(annual_rate) -> Fraction:
    return exact(annual_rate) / 12


def due_date(disbursed_on: date, months: int) -> date:
    """``months`` months after ``disbursed_on``, on its day of the month clamped to that month's end."""
    month_index = disbursed_on.month - 1 + months
    year, month = disbursed_on.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(disbursed_on.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Period:
    """One scheduled period: what falls due on ``due_date`` for the months from ``start_date``."""

    period: int
    start_date: date
    due_date: date
    principal: int
    interest: int

    @property
    def total(self) -> int:
        return self.principal + self.interest


def schedule(principal: int, term: int, annual_rate, way: str, disbursed_on: date) -> list[Period]:
    """The repayment plan of a loan of ``principal`` fen over ``term`` months, disbursed on ``disbursed_on``."""
    principal = _fen(principal)
    if principal <= 0 or not isinstance(term, int) or isinstance(term, bool) or term <= 0:
        raise ValueError("principal and term must be positive integers")
    rate = monthly_rate(annual_rate)
    if way == FIXED_REPAYMENT:
        principals = _equal_installment_principals(principal, term, rate)
    elif way == FIXED_CAPITAL:
        base, remainder = divmod(principal, term)
        principals = [base + (1 if k < remainder else 0) for k in range(term)]
    else:
        raise ValueError(f"unknown repayment way {way!r}")
    periods, balance, start = [], principal, disbursed_on
    for number, part in enumerate(principals, start=1):
        due = due_date(disbursed_on, number)
        periods.append(Period(number, start, due, part, round_half_up(balance * rate)))
        balance -= part
        start = due
    return periods


def _equal_installment_principals(principal: int, term: int, rate: Fraction) -> list[int]:
    """等额本息: each period's principal = installment − round(balance·r); the last takes the rest.

    A principal part is kept within [0, balance], which only matters for loans of a few fen, where
    rounding could otherwise make a part negative or larger than what is left.
    """
    if rate == 0:
        installment = round_half_up(Fraction(principal, term))
    else:
        growth = (1 + rate) ** term
        installment = round_half_up(principal * rate * growth / (growth - 1))
    parts, balance = [], principal
    for _ in range(term - 1):
        part = min(max(installment - round_half_up(balance * rate), 0), balance)
        parts.append(part)
        balance -= part
    return parts + [balance]


def accrued_interest(period: Period, today: date) -> int:
    """Interest of ``period`` accrued by ``today``: pro rata by days, at most its scheduled interest."""
    if today <= period.start_date:
        return 0
    if today >= period.due_date:
        return period.interest
    elapsed = Fraction((today - period.start_date).days, (period.due_date - period.start_date).days)
    return round_half_up(period.interest * elapsed)


def overdue_days(due: date, today: date) -> int:
    return max((today - due).days, 0)


def penalty(unpaid_principal: int, rate_per_day, days_overdue: int, grace_days: int) -> int:
    """Penalty of an unpaid period ``days_overdue`` days past due: nothing within the grace period."""
    if days_overdue <= grace_days:
        return 0
    return round_half_up(_fen(unpaid_principal) * exact(rate_per_day) * days_overdue)


@dataclass(frozen=True)
class Installment:
    """A scheduled period and what is known of it now: paid already, penalty waived by an operator."""

    period: Period
    paid: bool = False
    penalty_waived: bool = False


@dataclass(frozen=True)
class Part:
    """What one period contributes to a repayment."""

    period: int
    principal: int
    interest: int
    penalty: int

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.penalty


@dataclass(frozen=True)
class Quote:
    """What a repayment of some periods costs on a given day, period by period."""

    parts: tuple[Part, ...]

    @property
    def principal(self) -> int:
        return sum(part.principal for part in self.parts)

    @property
    def interest(self) -> int:
        return sum(part.interest for part in self.parts)

    @property
    def penalty(self) -> int:
        return sum(part.penalty for part in self.parts)

    @property
    def amount(self) -> int:
        return self.principal + self.interest + self.penalty


class SelectionError(ValueError):
    """Periods that cannot be repaid as asked; ``malformed`` when the request itself is wrong."""

    def __init__(self, msg: str, malformed: bool = False):
        super().__init__(msg)
        self.msg, self.malformed = msg, malformed


def penalty_of(installment: Installment, today: date, rate_per_day, grace_days: int) -> int:
    """The penalty an unpaid installment carries on ``today``."""
    if installment.paid or installment.penalty_waived:
        return 0
    return penalty(installment.period.principal, rate_per_day, overdue_days(installment.period.due_date, today),
                   grace_days)


def quote(installments: Iterable[Installment], periods, today: date, rate_per_day, grace_days: int) -> Quote:
    """What repaying ``periods`` costs on ``today``.

    ``periods`` is ``"all"`` (settle early: every unpaid period's principal, interest only as accrued
    up to today, and penalties) or a list of period numbers that must be the earliest unpaid periods,
    in any order, each already started (its full scheduled interest plus its penalty).
    """
    unpaid = [item for item in installments if not item.paid]
    if not unpaid:
        raise SelectionError("every period is paid already")
    if periods == ALL_PERIODS:
        return Quote(tuple(Part(item.period.period, item.period.principal, accrued_interest(item.period, today),
                                penalty_of(item, today, rate_per_day, grace_days)) for item in unpaid))
    chosen = _chosen_periods(periods, unpaid)
    parts = []
    for item in unpaid[:len(chosen)]:
        if item.period.start_date > today:
            raise SelectionError(f"period {item.period.period} has not started; settle early with periods \"all\"")
        parts.append(Part(item.period.period, item.period.principal, item.period.interest,
                          penalty_of(item, today, rate_per_day, grace_days)))
    return Quote(tuple(parts))


def _chosen_periods(periods, unpaid: list[Installment]) -> set[int]:
    if not isinstance(periods, list) or not periods or not all(
            isinstance(number, int) and not isinstance(number, bool) for number in periods):
        raise SelectionError('periods must be "all" or a non-empty list of period numbers', malformed=True)
    chosen = set(periods)
    if len(chosen) != len(periods):
        raise SelectionError("periods repeats a period", malformed=True)
    earliest = {item.period.period for item in unpaid[:len(chosen)]}
    if chosen != earliest:
        raise SelectionError(f"periods must be the earliest unpaid ones: {sorted(earliest)}")
    return chosen
