"""Fixtures of the Python package's tests: the karate graph kept in the
repository, and a small published version made by the graphrec binary
(GRAPHREC_BINARY, set by ctest)."""
import os
import subprocess

import pytest

SOURCE_DIR = os.environ.get("GRAPHREC_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
KARATE = os.path.join(SOURCE_DIR, "tests", "data", "karate.edgelist")
# Zachary's split: Mr. Hi's faction (the rest followed the officer, 34).
MR_HI = {1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 14, 17, 18, 20, 22}


def graphrec_binary():
    binary = os.environ.get("GRAPHREC_BINARY")
    if not binary:
        pytest.skip("GRAPHREC_BINARY not set (ctest sets it)")
    return binary


def run(*args, **kwargs):
    return subprocess.run([graphrec_binary(), *args], check=True, capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory):
    """A published version of a generated 300-account world."""
    root = tmp_path_factory.mktemp("graphrec")
    world, artifacts = root / "world", root / "artifacts"
    run("generate", "--out", str(world), "--accounts", "300", "--days", "3")
    run("batch", "--input", str(world), "--artifacts", str(artifacts), "--dimensions", "8", "--num-walks", "2",
        "--walk-length", "20", "--no-ranker", "--min-link-auc", "0", "--workers", "1")
    return artifacts
