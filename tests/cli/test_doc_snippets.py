"""Every ```sh and ```python snippet in README.md and docs/*.md runs as written.

Each snippet runs in a fresh temporary directory that holds links to the repository's ``tests``, ``examples`` and
``.venv`` (so relative paths in the docs resolve as they do from a checkout), with ``.venv/bin`` first on PATH and
HOME set to the directory (for ``~/...``). A shell snippet runs under ``bash -euo pipefail``: every line must exit 0.
The few that cannot run here are skipped below, each with its reason.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```(sh|bash|python)\n(.*?)^```", re.MULTILINE | re.DOTALL)

# Snippets that cannot run in a test, by (file, text of their first line): each with why.
SKIP: dict[tuple[str, str], str] = {
    # `make demo` serves until interrupted; `make test` is this whole suite (it would run itself).
    ("README.md", "make demo"): "serves forever / is the whole test suite",
    # Needs a server left running in the background and the token the first line prints, typed by hand.
    ("docs/api.md", "detainers demo --no-serve"): "needs a running server and a token copied from its output",
}

# What a snippet expects to exist already (run first, in the same directory), by (file, first line).
SETUP: dict[tuple[str, str], list[str]] = {
    ("docs/security.md", "detainers audit keygen"): ["detainers", "db", "upgrade", "--db", "detainers.db"],
}


@dataclass(frozen=True)
class Snippet:
    file: str
    line: int
    language: str
    code: str

    @property
    def first(self) -> str:
        return self.code.strip().splitlines()[0]

    def key(self) -> tuple[str, str] | None:
        for known_file, start in [*SKIP, *SETUP]:
            if known_file == self.file and self.first.startswith(start):
                return known_file, start
        return None


def _snippets() -> list[Snippet]:
    found: list[Snippet] = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            line = text[: match.start()].count("\n") + 1
            found.append(Snippet(str(path.relative_to(ROOT)), line, match.group(1), match.group(2)))
    return found


SNIPPETS = _snippets()


def test_the_skip_and_setup_lists_name_real_snippets() -> None:
    keys = {s.key() for s in SNIPPETS}
    for entry in [*SKIP, *SETUP]:
        assert entry in keys, f"{entry} matches no snippet: update the list"


@pytest.mark.slow
@pytest.mark.parametrize("snippet", SNIPPETS, ids=[f"{s.file}:{s.line}" for s in SNIPPETS])
def test_snippet_runs_as_written(snippet: Snippet, tmp_path: Path) -> None:
    key = snippet.key()
    if key in SKIP:
        pytest.skip(SKIP[key])
    for name in ("tests", "examples", ".venv"):
        (tmp_path / name).symlink_to(ROOT / name)
    venv_bin = Path(sys.executable).parent
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DETAINERS_") or key == "DETAINERS_TEST_POSTGRES_URL"
    }
    env.update(PATH=f"{venv_bin}{os.pathsep}{env.get('PATH', '')}", HOME=str(tmp_path), COLUMNS="120")
    if key in SETUP:
        subprocess.run(SETUP[key], cwd=tmp_path, env=env, check=True, capture_output=True, timeout=300)
    if snippet.language == "python":
        command = [sys.executable, "-c", snippet.code]
    else:
        command = ["bash", "-euo", "pipefail", "-c", snippet.code]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (
        f"{snippet.file}:{snippet.line} exits {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    )
