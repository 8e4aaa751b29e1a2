"""Capped exponential back-off: the one formula the platform's retries use (tenacity's ``wait_exponential``)."""
from tenacity import RetryCallState, wait_exponential


def backoff(failures: int, first: float, cap: float) -> float:
    """Seconds to wait after the ``failures``-th failure in a row: ``first``, then twice as long after each
    further failure, never more than ``cap`` (however many failures: no overflow)."""
    state = RetryCallState(None, None, (), {})
    state.attempt_number = max(failures, 1)
    return wait_exponential(multiplier=first, max=cap)(state)
