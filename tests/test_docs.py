"""The README stays a front door and every link in it and in docs/ leads somewhere."""

import re

import pytest

from snaprace.template import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


FRONT_DOOR = ["Set-up", "How it works", "Layout", "Deploy", "Reference", "Dependencies"]


def test_the_readme_is_a_front_door_with_the_two_set_up_commands():
    """What it is, the two commands, the picture, the layout, deploy; the reference lives in docs/."""
    text = (ROOT / "README.md").read_text()
    assert re.findall(r"^## (.+)$", text, re.M) == FRONT_DOOR
    set_up = text.split("## Set-up", 1)[1].split("```")[1]
    assert [line.split()[:2] for line in set_up.strip().splitlines()] == [["make", "demo"], ["make", "test"]]
    long = [n for n, line in enumerate(text.splitlines(), 1) if len(line) > 120]
    assert not long, f"README lines over 120 characters: {long}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_link_leaves_the_repository(page):
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text()):
        if not target.startswith(("http://", "https://")):
            inside = (page.parent / target).resolve().is_relative_to(ROOT)
            assert inside, f"{page.name} links outside the repository: {target}"


def test_every_module_named_in_the_docs_and_the_code_exists():
    """`pipeline.x.y` in a doc, docstring or comment is a module or a name in one: a move or a
    rename that leaves a stale reference fails here."""
    import importlib

    named = set()
    for path in [*PAGES, *sorted((ROOT / "src").rglob("*.py")), *sorted((ROOT / "snaprace").rglob("*.py"))]:
        named |= set(re.findall(r"(?<![\w./-])pipeline(?:\.[A-Za-z_]\w*)+", path.read_text()))
    stale = []
    for name in sorted(named):
        parts = name.split(".")
        for cut in range(len(parts), 0, -1):
            try:
                found = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            for attribute in parts[cut:]:
                found = getattr(found, attribute, None)
            if found is None:
                stale.append(name)
            break
    assert not stale, f"named but not there: {stale}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page):
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text()):
        if not target.startswith(("http://", "https://")):
            assert (page.parent / target).exists(), f"{page.name} links to {target}, which is not there"
