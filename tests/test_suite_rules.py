"""The test suite's own rule: a test that cannot find what it needs skips locally but fails under CI=true."""

from __future__ import annotations

import pytest

from conftest import PAPER, REPOSITORY, require


def test_a_missing_requirement_skips_locally_and_fails_under_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="the thing"):
        require(False, "the thing is missing")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        require(False, "the thing is missing")
    require(True, "never said")  # available: nothing happens


def test_the_paper_is_found_relative_to_the_repository():
    assert PAPER == REPOSITORY.parent / "shared" / "paper" / "paper.txt"
    assert (REPOSITORY / "Makefile").is_file()
