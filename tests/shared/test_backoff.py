"""The one back-off formula: doubling from the first delay, capped, whatever the number of failures."""
import math

from hypothesis import given, strategies as st

from shared.backoff import backoff


def test_doubles_from_the_first_delay_up_to_the_cap():
    assert [backoff(n, 0.5, 30) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert backoff(0, 1, 60) == 1  # no failure counted yet: the first delay


@given(st.integers(min_value=1, max_value=10**6), st.floats(min_value=0.001, max_value=100),
       st.floats(min_value=0.001, max_value=100_000))
def test_is_the_capped_doubling_for_any_number_of_failures(failures, first, cap):
    expected = min(first * 2.0 ** min(failures - 1, 1000), cap)
    assert math.isclose(backoff(failures, first, cap), expected, rel_tol=1e-9)
