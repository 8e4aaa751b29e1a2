"""The freezes bench, run tiny: its stack starts, its wrk script's every call is a new freeze the bank
takes, and each answered call is settled in the agent's records (figures are not checked: no timed tests)."""
import importlib.util
import shutil

import pytest

from bench import freezes

pytestmark = [pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk not installed"),
              pytest.mark.skipif(importlib.util.find_spec("bank_sandbox") is None, reason="bank-sandbox not present")]


def test_a_tiny_freezes_run_freezes_once_per_answered_call():
    stack = freezes.Stack.start()
    try:
        funders, project_nos = freezes.prepare(stack, 2, projects=2)
        figures = freezes.freeze(stack, funders, project_nos, seconds=1, connections=2)
        answered = figures["statuses"].get(200, 0)
        assert answered > 0 and set(figures["statuses"]) == {200}, figures
        freezes.wait(lambda: freezes.settled(stack) >= answered, 30, "the answered freezes settled")
        bank = stack.bank_client()
        # each settled freeze holds 0.01 of one funder's 1000.00 at the bank
        frozen = sum(bank.balances(user)[1] for user in funders)
        assert frozen == freezes.settled(stack) and sum(bank.balances(user)[0] for user in funders) == 200000 - frozen
    finally:
        stack.stop()
