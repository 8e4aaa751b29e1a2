"""The credit engine's rules: the ID number's GB 11643 check digit, the age on the day of the decision,
the product's limits, the blacklists, and the review's own blacklist."""
from datetime import date

import pytest

from tests.lending.conftest import id_number

from lending import credit_engine
from lending.credit_engine import CreditRules, age_on, check_character, id_number_problem


@pytest.mark.parametrize("first17", ["11010519491231002", "44052418800101001", "51343620000320432"])
def test_the_check_digit_is_gb_11643(first17):
    """Published examples and the weights: sum(a_i * w_i) mod 11 indexes 1 0 X 9 8 7 6 5 4 3 2."""
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    expected = "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights)) % 11]
    assert check_character(first17) == expected
    assert id_number_problem(first17 + expected) is None
    assert check_character("11010519491231002") == "X"


def test_the_credit_rules(deps):
    rules = CreditRules(20, 55, 100_000, 20_000_000, 3, 24, frozenset({"110105199001010011"}), frozenset())
    today = date(2026, 6, 15)
    ok = {"idNumber": id_number(date(1990, 6, 15)), "mobile": "13800138000", "loanAmount": 100_000, "loanTerm": 3}
    assert credit_engine.decide_credit(rules, today, {"orderNo": "A", **ok}) == {
        "orderNo": "A", "approved": True, "reasons": [], "approvedAmount": 100_000}
    assert age_on(id_number(date(2006, 6, 15)), today) == 20 and age_on(id_number(date(2006, 6, 16)), today) == 19
    for change in ({"idNumber": id_number(date(2006, 6, 16))}, {"idNumber": id_number(date(1970, 6, 14))},
                   {"loanAmount": 99_999}, {"loanAmount": 20_000_001}, {"loanTerm": 25}, {"mobile": "03800138000"},
                   {"idNumber": "110105199001010011"}, {"idNumber": "11010519900101001X"}):
        decision = credit_engine.decide_credit(rules, today, {"orderNo": "B", **ok, **change})
        assert decision["approved"] is False and decision["reasons"], change
    strict = CreditRules(**{**rules.__dict__, "review_blacklist": frozenset({ok["idNumber"]})})
    assert credit_engine.decide_review(strict, today, {"borrowNo": "C", **ok})["approved"] is False
    assert credit_engine.decide_review(rules, today, {"borrowNo": "C", **ok})["approved"] is True
