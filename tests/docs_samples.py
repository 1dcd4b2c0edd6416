"""Finding the code samples of the docs and the README, and the world they run in.

Every ```` ```python ```` block of ``README.md`` and ``docs/**/*.md`` is a sample:

- a plain block runs as a script (``__name__ == "__main__"``), with
  ``WHOP_API_KEY`` and ``WHOP_BASE_URL`` pointing at a fresh fake server that
  knows the users in :data:`SAMPLE_USERS`, so ``whop_dm.AsyncClient()`` with
  no arguments just works;
- a block titled like a test file (```` ```python title="test_bot.py" ````)
  is written to a temporary directory and run by pytest in a subprocess, as a
  reader's own test suite would run it;
- a block right after a ``<!-- no-run: why -->`` line is not run. Keep those
  rare: each must say why.

Other languages (``bash``, ``console``, ``toml``...) are not run here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"

# The key the samples' environment holds, and the user it belongs to.
SAMPLE_KEY = "whop_docs_key"
SAMPLE_OWNER = "user_me"
# Users the samples may name. Bulk samples take theirs from user_000..user_199,
# or from user_0001..user_0200 (the users `whop-dm serve-fake --users N` makes).
NAMED_USERS = ("alice", "bob", "carol", "dave", "erin", "frank")
SAMPLE_USERS = (
    (SAMPLE_OWNER, "me"),
    *((f"user_{name}", name) for name in NAMED_USERS),
    *((f"user_{n:03d}", f"member{n:03d}") for n in range(200)),
    *((f"user_{n:04d}", f"member{n:04d}") for n in range(1, 201)),
)

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_NO_RUN = re.compile(r"<!--\s*no-run\b(?P<why>[^>]*)-->")
_TITLE = re.compile(r'title="(?P<title>[^"]*)"')


@dataclass(frozen=True)
class Sample:
    """One fenced code block."""

    path: Path
    line: int  # 1-based line of the opening fence
    language: str
    title: str | None
    code: str
    no_run: str | None  # the reason, when marked

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def is_python(self) -> bool:
        return self.language in ("python", "py")

    @property
    def is_test_file(self) -> bool:
        return self.title is not None and bool(re.search(r"(^|/)test_[^/]*\.py$", self.title))


def blocks(path: Path) -> Iterator[Sample]:
    """Every fenced block of a Markdown file, indented ones (admonitions, tabs) included."""
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    last_text = ""
    while index < len(lines):
        match = _FENCE.match(lines[index])
        if match is None:
            if lines[index].strip():
                last_text = lines[index]
            index += 1
            continue
        indent, fence, info = match["indent"], match["fence"], match["info"].strip()
        start = index
        body: list[str] = []
        index += 1
        while index < len(lines):
            line = lines[index]
            if line.strip().startswith(fence) and line.strip().strip(fence[0]) == "":
                break
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            index += 1
        index += 1
        language = info.split()[0].lstrip(".{") if info else ""
        title = _TITLE.search(info)
        no_run = _NO_RUN.search(last_text)
        yield Sample(
            path=path,
            line=start + 1,
            language=language,
            title=title["title"] if title else None,
            code="\n".join(body) + "\n",
            no_run=no_run["why"].strip(" :") if no_run else None,
        )
        last_text = ""


def documents() -> list[Path]:
    """README.md and every page under docs/, in a stable order."""
    return [README, *sorted(DOCS.rglob("*.md"))]


def python_samples() -> list[Sample]:
    """Every Python block of the README and the docs."""
    return [s for path in documents() for s in blocks(path) if s.is_python]
