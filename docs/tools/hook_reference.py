"""Write the hook reference of docs/plugins.md from the docstrings in neurosim/hookspecs.py.

The reference is the part of docs/plugins.md between the two marker comments
``<!-- hook reference: begin ... -->`` and ``<!-- hook reference: end -->``: one heading per
hook specification, in the order and under the group headings of ``neurosim/hookspecs.py``
(its ``# --- group ---`` comments), with the hook's signature, its docstring turned from
numpydoc into Markdown and its parameters as a list. Nothing else in the page is touched.
Run it after changing a hook specification: ``python docs/tools/hook_reference.py``;
``--check`` only reports whether the page is up to date (exit 1 when it is not), which is
what tests/test_plugin_authoring.py asserts, so a hook missing from the page, or one whose
text went stale, fails the tests.
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
from pathlib import Path

import neurosim.hookspecs as hookspecs
from neurosim.io import atomic_write

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "plugins.md"
BEGIN = "<!-- hook reference: begin (written by docs/tools/hook_reference.py from neurosim/hookspecs.py; " \
        "edit the docstrings, not this section) -->"
END = "<!-- hook reference: end -->"

#: ``:class:`~neurosim.Activation``` and friends: Sphinx roles, shown as code.
ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|obj):`(~?)([^`]+)`")


def hooks() -> list[tuple[str, str]]:
    """Every hook specification as ``(group, name)``, in the order of the source file.

    Returns
    -------
    list of (str, str)
        The group is the text of the ``# --- ... ---`` comment above the hook.
    """
    group, found = "", []
    for line in inspect.getsource(hookspecs).splitlines():
        heading = re.match(r"# -+ (.+?) -+$", line)
        if heading:
            group = heading.group(1)
        hook = re.match(r"def (neurosim_\w+)\(", line)
        if hook and getattr(getattr(hookspecs, hook.group(1)), "neurosim_spec", None) is not None:
            found.append((group, hook.group(1)))
    return found


def _markdown(text: str) -> str:
    """numpydoc/reST inline markup as Markdown: double backticks and roles become code."""
    text = ROLE.sub(lambda m: f"`{m.group(2).rsplit('.', 1)[-1] if m.group(1) else m.group(2)}`", text)
    return text.replace("``", "`")


def _sections(doc: str) -> tuple[str, dict[str, list[str]]]:
    """The docstring's body, and its numpydoc sections ``{title: lines}``."""
    lines = doc.splitlines()
    body, sections, current = [], {}, None
    k = 0
    while k < len(lines):
        if k + 1 < len(lines) and lines[k].strip() and re.fullmatch(r"-{3,}", lines[k + 1].strip()):
            current = lines[k].strip()
            sections[current] = []
            k += 2
            continue
        (body if current is None else sections[current]).append(lines[k])
        k += 1
    return "\n".join(body).strip(), sections


def _parameters(lines: list[str]) -> list[str]:
    """A numpydoc Parameters section as Markdown list items."""
    items: list[list[str]] = []
    for line in lines:
        if not line.strip():
            continue
        if not line.startswith(" "):
            name, _, kind = line.partition(":")
            items.append([f"`{name.strip()}`" + (f" ({_markdown(kind.strip())})" if kind.strip() else ""), ""])
        elif items:
            items[-1][1] += " " + line.strip()
    return [f"- {head}{':' + ' ' + _markdown(text.strip()) if text.strip() else ''}" for head, text in items]


def render() -> str:
    """The hook reference, markers included, as it belongs in docs/plugins.md.

    Returns
    -------
    str
    """
    out = [BEGIN, "", "## Hook reference", "",
           "Every hook a plugin can implement, from the specifications in `neurosim/hookspecs.py`. Mark each "
           "implementation `@neurosim.hookimpl` and give it the parameter names shown.", ""]
    group = None
    for hook_group, name in hooks():
        if hook_group != group:
            group = hook_group
            out += [f"### {group[0].upper()}{group[1:]}", ""]
        fn = getattr(hookspecs, name)
        params = ", ".join(inspect.signature(fn).parameters)
        body, sections = _sections(inspect.getdoc(fn) or "")
        out += [f"#### `{name}({params})`", "", _markdown(body), ""]
        if sections.get("Parameters"):
            out += ["Parameters:", "", *_parameters(sections["Parameters"]), ""]
    out.append(END)
    return "\n".join(out)


def update(page: str) -> str:
    """``page`` with its hook reference replaced by :func:`render`'s.

    Parameters
    ----------
    page : str
        The text of docs/plugins.md.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        When the page does not hold the two markers, in order, once each.
    """
    begin, end = page.find(BEGIN), page.find(END)
    if page.count(BEGIN) != 1 or page.count(END) != 1 or end < begin:
        raise ValueError(f"the page must hold the hook reference markers once each, in order:\n{BEGIN}\n{END}")
    return page[:begin] + render() + page[end + len(END):]


def main(argv: list[str] | None = None) -> int:
    """Rewrite (or, with ``--check``, check) the hook reference of docs/plugins.md.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 when the page is (now) up to date, 1 when ``--check`` finds it stale.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report whether the page is up to date")
    parser.add_argument("--page", type=Path, default=PAGE, help="the page to write (default: docs/plugins.md)")
    args = parser.parse_args(argv)
    page = args.page.read_text(encoding="utf-8")
    new = update(page)
    if new == page:
        print(f"{args.page}: the hook reference is up to date")
        return 0
    if args.check:
        print(f"{args.page}: the hook reference is stale; run python docs/tools/hook_reference.py", file=sys.stderr)
        return 1
    atomic_write(args.page, new)
    print(f"{args.page}: wrote the hook reference ({len(hooks())} hooks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
