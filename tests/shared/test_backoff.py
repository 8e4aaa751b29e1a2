"""The one back-off formula: doubling from the first delay, capped, whatever the number of failures."""
import math

import pytest
from hypothesis import given, strategies as st

from shared.backoff import Backoff, backoff, retry_call


def test_doubles_from_the_first_delay_up_to_the_cap():
    assert [backoff(n, 0.5, 30) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert backoff(0, 1, 60) == 1  # no failure counted yet: the first delay


@given(st.integers(min_value=1, max_value=10**6), st.floats(min_value=0.001, max_value=100),
       st.floats(min_value=0.001, max_value=100_000))
def test_is_the_capped_doubling_for_any_number_of_failures(failures, first, cap):
    expected = min(first * 2.0 ** min(failures - 1, 1000), cap)
    assert math.isclose(backoff(failures, first, cap), expected, rel_tol=1e-9)


def test_a_counter_of_failures_gives_the_same_delays_and_starts_again_after_a_success():
    failures = Backoff(0.2, 5)
    assert [failures.next() for _ in range(7)] == [backoff(n, 0.2, 5) for n in range(1, 8)]
    failures.reset()
    assert failures.next() == 0.2


def test_a_call_is_tried_again_after_the_back_off_and_the_last_failure_is_raised():
    calls, waits = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise TimeoutError("not yet")
        return "answer"

    assert retry_call(flaky, 5, 0.1, 0.15, TimeoutError, sleep=waits.append) == "answer"
    assert len(calls) == 3 and waits == [0.1, 0.15]

    tries = []

    def silent():
        tries.append(1)
        raise TimeoutError(f"try {len(tries)}")

    with pytest.raises(TimeoutError, match="try 3"):
        retry_call(silent, 3, 0.1, 0.1, TimeoutError, sleep=lambda _: None)
    assert len(tries) == 3


def test_only_the_named_failures_are_tried_again():
    calls = []

    def broken():
        calls.append(1)
        raise ValueError("never retried")

    with pytest.raises(ValueError):
        retry_call(broken, 5, 0.1, 0.1, TimeoutError, sleep=lambda _: None)
    assert len(calls) == 1
