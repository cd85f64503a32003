"""`make demo` is the README's first command: it must tell the whole story and pass every check."""

from __future__ import annotations

from mlops_local import demo


def test_the_demo_passes_every_check_and_says_so() -> None:
    lines: list[str] = []
    assert demo.run(out=lines.append) == 0, "\n".join(lines)
    told = "\n".join(lines)
    assert "FAIL" not in told
    assert "The control plane did everything it should." in told
    assert "Integration Tests Completed" in told  # the tester ran against the live model
    assert sum(line.startswith("   ok ") for line in lines) >= 9
