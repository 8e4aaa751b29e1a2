"""Capped exponential back-off: the one formula the platform's retries use (tenacity's ``wait_exponential``).

Three ways to use it: the delay after the n-th failure (:func:`backoff`, for delays kept in a table), a
count of failures in a row that gives the next delay (:class:`Backoff`, for reconnect loops), and a call
tried a few times (:func:`retry_call`). A constant delay is the case ``first == cap``.
"""
import time
from typing import Callable, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

T = TypeVar("T")


def backoff(failures: int, first: float, cap: float) -> float:
    """Seconds to wait after the ``failures``-th failure in a row: ``first``, then twice as long after each
    further failure, never more than ``cap`` (however many failures: no overflow)."""
    state = RetryCallState(None, None, (), {})
    state.attempt_number = max(failures, 1)
    return _wait(first, cap)(state)


def _wait(first: float, cap: float) -> wait_exponential:
    return wait_exponential(multiplier=first, max=cap)


class Backoff:
    """Failures in a row and the delay after each (:func:`backoff` from ``base`` up to ``cap``); a success
    resets it."""

    def __init__(self, base: float = 0.2, cap: float = 5.0):
        self.base, self.cap, self.failures = base, cap, 0

    def next(self) -> float:
        """Count one more failure; the seconds to wait before the next attempt."""
        self.failures += 1
        return backoff(self.failures, self.base, self.cap)

    def reset(self) -> None:
        self.failures = 0


def retry_call(call: Callable[[], T], tries: int, first: float, cap: float,
               retry_on: type[BaseException] | tuple[type[BaseException], ...],
               sleep: Callable[[float], None] = time.sleep) -> T:
    """``call()``, tried at most ``tries`` times while it raises ``retry_on``, waiting :func:`backoff` of the
    failures so far between tries; the last failure is raised as it was."""
    for attempt in Retrying(stop=stop_after_attempt(max(1, tries)), wait=_wait(first, cap),
                            retry=retry_if_exception_type(retry_on), reraise=True, sleep=sleep):
        with attempt:
            result = call()
    return result
