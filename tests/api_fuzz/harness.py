"""Loading a live service's OpenAPI document into schemathesis and running the checks on a case.

The knobs (environment): ``SCHEMATHESIS_MAX_EXAMPLES`` (fuzzed cases per operation, default 25),
``SCHEMATHESIS_SEED`` (an integer, default fixed so CI is reproducible; ``random`` for a new one per
run), ``SCHEMATHESIS_PHASES`` (default ``examples,coverage,fuzzing``). See docs/api_fuzzing.md.
"""
import os
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Callable

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.openapi.checks import UndefinedStatusCode
from schemathesis.pytest.lazy import get_all_tests
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance, unsupported_method

DEFAULT_MAX_EXAMPLES = 25
DEFAULT_SEED = 20260101
DEFAULT_PHASES = "examples,coverage,fuzzing"
REQUEST_TIMEOUT_SECONDS = 10

# Answers the front door (gunicorn, before any app code) gives to oversized request lines or headers.
# They are plain HTML by design and no operation documents them.
FRONT_DOOR_STATUSES = {414, 431}


def max_examples() -> int:
    return int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", DEFAULT_MAX_EXAMPLES))


def seed() -> int:
    value = os.environ.get("SCHEMATHESIS_SEED", str(DEFAULT_SEED))
    return random.SystemRandom().randrange(2**63) if value == "random" else int(value)


def load_schema(base_url: str) -> schemathesis.BaseSchema:
    """The service's live ``/openapi.json`` with this harness's generation settings."""
    phases = {name.strip() for name in os.environ.get("SCHEMATHESIS_PHASES", DEFAULT_PHASES).split(",")}
    config = schemathesis.Config.from_dict({
        "seed": seed(),
        "request-timeout": REQUEST_TIMEOUT_SECONDS,
        "generation": {"mode": "all", "max-examples": max_examples(), "database": "none"},
        "phases": {name: {"enabled": name in phases} for name in ("examples", "coverage", "fuzzing")}
                  | {"stateful": {"enabled": False}},
    })
    return schemathesis.openapi.from_url(f"{base_url}/openapi.json", config=config, wait_for_schema=10)


def explicit_status_code(ctx, response, case):
    """The status is one the operation names explicitly, not only through flask-smorest's ``default``.

    schemathesis' own ``status_code_conformance`` accepts anything when an operation has a
    ``default`` response, and flask-smorest adds one to every operation: this check is the strict one.
    """
    status = response.status_code
    if case.method.upper() != case.operation.method.upper():
        return None  # the coverage phase's undeclared-method probes: 405 is the right answer
    documented = [code for code in case.operation.responses.status_codes if code != "default"]
    if status in FRONT_DOOR_STATUSES or not documented:
        return None
    allowed = {int(code) for code in documented if code.isdigit()}
    ranges = {code[0] for code in documented if code.upper().endswith("XX")}
    if status in allowed or str(status)[0] in ranges:
        return None
    raise UndefinedStatusCode(
        operation=case.operation.label, status_code=status, defined_status_codes=documented,
        allowed_status_codes=sorted(allowed),
        message=f"Received: {status}\nDocumented (besides default): {', '.join(documented)}")


def undeclared_method_refused(ctx, response, case):
    """schemathesis' ``unsupported_method``: a method the document does not list (the coverage phase's
    probes) is 405 with an ``Allow`` header; the front door's own answers aside."""
    if response.status_code in FRONT_DOOR_STATUSES:
        return None
    return unsupported_method(ctx, response, case)


CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, explicit_status_code,
          undeclared_method_refused]


def security_schemes(case) -> set[str]:
    """Names of the security schemes the operation declares (empty when it declares none)."""
    requirements = case.operation.definition.raw.get("security") or []
    return {name for requirement in requirements for name in requirement}


def with_seeds(value, seeds: dict[str, list]):
    """A strategy answering ``value`` as generated, or with some of its fields swapped for known data.

    ``seeds`` maps a field name to known-good values (an existing eid, a known requestNo, ...), so
    that fuzzing reaches the code behind the "not found" answers. Only dict values are seeded.
    """
    if not isinstance(value, dict) or not seeds:
        return st.just(value)
    swaps = st.fixed_dictionaries({}, optional={name: st.sampled_from(options) for name, options in seeds.items()})
    return st.one_of(st.just(value), swaps.map(lambda chosen: {**value, **chosen}))


def seed_fields(schema, known: Callable) -> None:
    """Mix known data into every operation's query, path parameters and body.

    ``known(operation)`` answers the seeds for that operation (see :func:`with_seeds`), ``{}`` for none.
    """
    def seeded(context, value):
        return with_seeds(value, known(context.operation))

    for container in ("query", "path_parameters", "body"):
        schema.hooks.register_hook_with_name(seeded, f"flatmap_{container}")


def mix_in(schema, container: str, alternative: Callable) -> None:
    """Draw about half of an operation's ``container`` values (query, body, ...) from another strategy.

    ``alternative(operation)`` answers that strategy (e.g. correctly signed bank messages) or None.
    """
    def mixed(context, value):
        strategy = alternative(context.operation)
        return st.just(value) if strategy is None else st.one_of(st.just(value), strategy)

    schema.hooks.register_hook_with_name(mixed, f"flatmap_{container}")


@dataclass
class FuzzRun:
    """What one service's fuzzing saw: failure reports and, per operation, the statuses answered."""

    failures: list[str] = field(default_factory=list)
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def report(self) -> str:
        return f"{len(self.failures)} operation(s) failed:\n\n" + "\n\n".join(self.failures)

    def summary(self) -> str:
        """One line per operation: how many answers of each status (shown by pytest on failure, or -s)."""
        return "\n".join(f"{label}: {dict(sorted(seen.items()))}" for label, seen in sorted(self.statuses.items()))

    def unauthenticated(self) -> list[str]:
        """Operations that never got past authentication: the harness did not supply credentials."""
        return [label for label, seen in self.statuses.items() if set(seen) <= {401, 403}]

    def assert_clean(self) -> None:
        """Fail the test with every failure's report (status, body, curl) unless there is none."""
        if self.unauthenticated():
            pytest.fail(f"the harness's credentials were refused by {self.unauthenticated()}", pytrace=False)
        if self.failures:
            pytest.fail(self.report(), pytrace=False)


def fuzz(schema, headers_for: Callable) -> FuzzRun:
    """Run every operation's examples, coverage and fuzzing cases; collect failures instead of stopping.

    ``headers_for(case)`` gives the credentials for a case. Each operation runs as its own
    Hypothesis test (schemathesis shrinks a failing case to a minimal one before reporting it).
    """
    run = FuzzRun()

    def call(case):
        response = case.call(headers=headers_for(case))
        run.statuses[case.operation.label][response.status_code] += 1
        case.validate_response(response, checks=CHECKS, headers=headers_for(case))

    for result in get_all_tests(schema=schema, test_func=call, settings=None, given_kwargs=None):
        if isinstance(result, Err):
            run.failures.append(f"[schema] {result.err()}")
            continue
        operation, test = result.ok()
        try:
            test()
        # Check failures come as a FailureGroup, which is a BaseExceptionGroup; Hypothesis' own are Exceptions.
        except (Exception, BaseExceptionGroup) as exc:
            run.failures.append(f"[{operation.label}] {type(exc).__name__}: {exc}")
    print(run.summary())
    return run
