"""Every link in the repository's Markdown resolves inside the repository, and nothing refers outside it.

A relative link must name a tracked file or folder of the repository (for the seed code, of
``seed-code/`` itself: it becomes the root of every project repository), and a ``#fragment`` must name a
heading of the page it points at, as GitHub renders it. Links to web pages are not followed (no network).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

import pytest

REPO = Path(__file__).resolve().parents[2]
SEED_CODE = "seed-code"
# [text](target) or [text](target "title"), and <img src=...>/<a href=...>; reference-style links are unused.
_INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HTML_LINK = re.compile(r"""<(?:a|img)\s[^>]*?(?:href|src)=["']([^"']+)["']""", re.IGNORECASE)
_FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,}).*?^\1\2\s*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
# Text that refers to a document outside the repository: a design document, or a section of an issue
# (the tracker is not part of a clone). Built so this file does not match.
_OUTSIDE_REFERENCES = re.compile(
    "|".join([r"\.\./shared/", "DESIGN" + r"\.md", "DESIGN" + r" ?§", r"\b[Ii]ssue #?\d+ ?§"])
)


def _git(*args: str) -> list[str]:
    output = subprocess.run(["git", *args], cwd=REPO, check=True, capture_output=True, text=True).stdout
    return [line for line in output.split("\0") if line]


@pytest.fixture(scope="module")
def tracked() -> set[str]:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    deleted = set(_git("ls-files", "-z", "--deleted"))
    files = set(_git("ls-files", "-z", "--cached", "--others", "--exclude-standard"))
    return files - deleted


def _folders(files: set[str]) -> set[str]:
    return {str(parent) for path in files for parent in PurePosixPath(path).parents if str(parent) != "."}


def _prose(markdown: str) -> str:
    """The Markdown without code blocks, code spans and HTML comments, where links are not links."""
    return _CODE_SPAN.sub("", _FENCE.sub("", _HTML_COMMENT.sub("", markdown)))


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lowercase, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading anchors by its text
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    found: set[str] = set()
    for heading in _HEADING.findall(_FENCE.sub("", markdown)):
        slug, n = github_slug(heading), 1
        while slug in found:  # GitHub numbers repeated headings: slug, slug-1, slug-2...
            slug = f"{github_slug(heading)}-{n}"
            n += 1
        found.add(slug)
    return found


def links(markdown: str) -> Iterator[str]:
    prose = _prose(markdown)
    yield from _INLINE_LINK.findall(prose)
    yield from _HTML_LINK.findall(prose)


def _read(path: str) -> str:
    return (REPO / path).read_text(encoding="utf-8")


def broken_links(
    page: str, markdown: str, tracked: set[str], read: Callable[[str], str] = _read
) -> list[str]:
    """Why each relative link of `page` (a repository path) does not resolve, if it does not."""
    root = PurePosixPath(SEED_CODE) if page.startswith(SEED_CODE + "/") else PurePosixPath()
    existing = tracked | _folders(tracked)
    problems = []
    for target in links(markdown):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):  # https:, mailto: ...
            continue
        path_part, _, fragment = target.partition("#")
        if path_part.startswith("/"):
            problems.append(f"{target}: an absolute path; link relative to the page")
            continue
        parts: list[str] = []
        for part in (
            (PurePosixPath(page).parent / path_part).parts if path_part else PurePosixPath(page).parts
        ):
            if part == "..":
                if not parts:
                    parts = ["<outside>"]
                    break
                parts.pop()
            elif part != ".":
                parts.append(part)
        resolved = "/".join(parts)
        if "<outside>" in parts or (root.parts and tuple(parts[: len(root.parts)]) != root.parts):
            problems.append(f"{target}: outside the {'seed code' if root.parts else 'repository'}")
            continue
        if resolved not in existing:
            problems.append(f"{target}: no such file or folder in the repository ({resolved})")
            continue
        if fragment and resolved.endswith(".md") and fragment not in anchors(read(resolved)):
            problems.append(f"{target}: no heading #{fragment} in {resolved}")
    return problems


def test_every_relative_link_of_the_markdown_resolves_inside_the_repository(tracked: set[str]) -> None:
    pages = sorted(path for path in tracked if path.endswith(".md"))
    assert "README.md" in pages and "docs/architecture.md" in pages
    problems = {
        page: found
        for page in pages
        if (found := broken_links(page, (REPO / page).read_text(encoding="utf-8"), tracked))
    }
    assert problems == {}


def test_nothing_in_the_repository_refers_to_a_document_outside_it(tracked: set[str]) -> None:
    found = []
    for path in sorted(tracked):
        file = REPO / path
        if file.is_symlink() or not file.is_file():
            continue
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        found += [
            f"{path}:{n}: {line.strip()}"
            for n, line in enumerate(text.splitlines(), 1)
            if _OUTSIDE_REFERENCES.search(line)
        ]
    assert found == [], "say it here, or refer to docs/architecture.md"


def test_the_outside_reference_check_catches_design_and_issue_sections() -> None:
    for text in (
        "see ../" + "shared/DESIGN" + ".md",
        "DESIGN" + " §3",
        "(issue 9 " + "§4)",
        "Issue #12" + "§2, bad input",
    ):
        assert _OUTSIDE_REFERENCES.search(text), text
    for text in ("an issue of parliament", "issue 9 of the newsletter", "docs/architecture.md, section 2"):
        assert not _OUTSIDE_REFERENCES.search(text), text


def test_the_link_check_refuses_what_it_should() -> None:
    tracked = {"README.md", "docs/a.md", "seed-code/README.md", "seed-code/pipelines/run.py"}
    page = "# Top\n\n## Second heading (`x`)\n\n[ok](b.md) [web](https://example.com) `[code](nowhere.md)`\n"
    assert anchors(page) == {"top", "second-heading-x"}
    read = {"docs/a.md": page, "README.md": "# Read me\n"}.__getitem__
    assert (
        broken_links(
            "docs/a.md", "[a](../README.md) [b](a.md#second-heading-x) [c](https://x.y/z)", tracked, read
        )
        == []
    )
    assert broken_links("docs/a.md", "[a](#top) [b](../README.md#read-me) [c](#nowhere)", tracked, read) == [
        "#nowhere: no heading #nowhere in docs/a.md"
    ]
    assert broken_links("docs/a.md", "[a](../../elsewhere/notes.md)", tracked) == [
        "../../elsewhere/notes.md: outside the repository"
    ]
    assert broken_links("docs/a.md", "[a](missing.md)", tracked) == [
        "missing.md: no such file or folder in the repository (docs/missing.md)"
    ]
    assert broken_links("seed-code/README.md", "[a](pipelines/run.py) [b](../docs/a.md)", tracked) == [
        "../docs/a.md: outside the seed code"
    ]
    assert broken_links("docs/a.md", "```\n[a](missing.md)\n```\n<!-- [b](gone.md) -->", tracked) == []
