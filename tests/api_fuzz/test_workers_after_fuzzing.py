"""After the fuzzing (this module runs last in the folder): nothing behind the APIs broke.

The HTTP checks see only answers; signed bank messages the fuzzer sent also flowed on, through
the outbox relay, RabbitMQ and user-center's consumer. Every process must still run, and no
process may have logged an unhandled exception.
"""
import pytest

pytest.importorskip("schemathesis", reason="API fuzzing needs schemathesis==4.32.5 (dev extra in pyproject.toml)")


def test_every_process_survived_the_fuzzing(fuzz_stack):
    dead = [process.name for process in fuzz_stack.processes() if not process.alive()]
    assert not dead, f"stopped during fuzzing: {dead}"
    tracebacks = {}
    for process in fuzz_stack.processes():
        lines = process.log_path.read_text(errors="replace").splitlines()
        for index, line in enumerate(lines):
            if "Traceback (most recent call last)" in line:
                tracebacks[process.name] = "\n".join(lines[max(0, index - 2):index + 25])
                break
    assert not tracebacks, "unhandled exceptions logged:\n\n" + "\n\n".join(
        f"--- {name} ({fuzz_stack.log_dir})\n{text}" for name, text in tracebacks.items())
