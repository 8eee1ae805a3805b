"""Documentation is part of the contract: docstrings, doctests and the plugin hook reference.

Every module of the package and of the built-in plugins opens with a docstring; every
public class and function has a numpydoc docstring with a Parameters section when it takes
parameters; the examples in docstrings run (doctest); and every hook in
``neurosim.hookspecs`` is documented in ``docs/plugins.md`` (the datasette rule: a hook
missing from the docs fails the build). ``docs/worked-example.md`` cannot drift from the
engine: its Python blocks run as doctests, its ``neurosim run`` output is the command's,
and every number in its tables is quoted from that checked output.
"""

import ast
import doctest
import importlib
import inspect
import re
import subprocess
from pathlib import Path

import pytest

import neurosim
import neurosim.hookspecs

ROOT = Path(__file__).resolve().parents[1]


SOURCES = sorted((ROOT / "neurosim").rglob("*.py")) + sorted((ROOT / "plugins").glob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_module_opens_with_a_docstring(path):
    doc = ast.get_docstring(ast.parse(path.read_text()))
    assert doc and len(doc.split()) >= 8, f"{path} needs a one-paragraph module docstring"


def _public_callables():
    for name in neurosim.__all__:
        obj = getattr(neurosim, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            yield name, obj
            if inspect.isclass(obj):
                for meth_name, meth in vars(obj).items():
                    if not meth_name.startswith("_") and (inspect.isfunction(meth) or isinstance(meth, classmethod)):
                        yield f"{name}.{meth_name}", getattr(obj, meth_name)


@pytest.mark.parametrize("name, obj", list(_public_callables()), ids=lambda v: v if isinstance(v, str) else "")
def test_public_api_has_numpydoc_docstrings(name, obj):
    doc = inspect.getdoc(obj)
    assert doc, f"{name} has no docstring"
    if inspect.isclass(obj) and issubclass(obj, Exception):
        return
    try:
        params = [p for p in inspect.signature(obj).parameters if p not in ("self", "cls")]
    except (TypeError, ValueError):
        params = []
    short_method = "." in name and len(doc.splitlines()) == 1 and len(params) <= 3
    section = "(Parameters|Attributes)" if inspect.isclass(obj) else "Parameters"
    if params and not short_method:
        assert re.search(rf"^{section}\n-{{3,}}", doc, re.M), f"{name} takes {params} but documents no Parameters"


@pytest.mark.parametrize("name", ["neurosim.network", "neurosim.errors", "neurosim.plugins", "neurosim.datafiles",
                                  "neurosim.recurrent"])
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_every_hook_is_documented():
    docs = (ROOT / "docs" / "plugins.md").read_text()
    hooks = [n for n in dir(neurosim.hookspecs) if n.startswith("neurosim_")]
    assert hooks
    for hook in hooks:
        assert re.search(rf"^#+ `?{hook}", docs, re.M), f"hook {hook} is not documented in docs/plugins.md"


def test_every_scenario_key_is_documented():
    docs = (ROOT / "docs" / "scenarios.md").read_text()
    from neurosim.scenario import SCHEMA
    for table, keys in SCHEMA.items():
        for key in keys:
            assert f"`{key}`" in docs, f"scenario key {table}.{key} is not documented in docs/scenarios.md"


def test_readme_has_the_two_setup_commands():
    readme = (ROOT / "README.md").read_text()
    assert "python -m pip install . && neurosim run scenarios/mazur.toml" in readme
    assert "python -m pip install '.[test]' && python -m pytest" in readme


# --- docs/worked-example.md: every number on the page comes from the engine -----------------

WORKED = ROOT / "docs" / "worked-example.md"


def _fenced(text, lang):
    return re.findall(rf"^```{lang}\n(.*?)^```", text, re.S | re.M)


def _worked_example_doctest():
    """The page's ``pycon`` blocks, in order, as one doctest session."""
    source = "\n".join(_fenced(WORKED.read_text(), "pycon"))
    return doctest.DocTestParser().get_doctest(source, {}, "worked-example", str(WORKED), 0)


def _mazur_report(capsys, monkeypatch):
    from neurosim.cli import main

    monkeypatch.chdir(ROOT)
    assert main(["run", "scenarios/mazur.toml"]) == 0
    return capsys.readouterr().out


def test_worked_example_python_blocks_run(monkeypatch):
    monkeypatch.chdir(ROOT)
    test = _worked_example_doctest()
    assert len(test.examples) >= 30
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0


def test_worked_example_quotes_the_real_run_output(capsys, monkeypatch):
    command = "$ neurosim run scenarios/mazur.toml\n"
    [block] = [b for b in _fenced(WORKED.read_text(), "console") if b.startswith(command)]
    quoted = block[len(command):]
    assert quoted == _mazur_report(capsys, monkeypatch)      # nothing is drawn, so no seed is printed


def test_worked_example_quotes_the_scenario_file():
    [block] = _fenced(WORKED.read_text(), "toml")
    assert block in (ROOT / "scenarios" / "mazur.toml").read_text()


def _tables(text):
    """Rows of the page's tables with a "the notes print" column, as dicts by header."""
    rows, header = [], None
    for line in text.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
        elif not set("".join(cells)) <= set("-: ") and "the notes print" in header:
            rows.append(dict(zip(header, cells)))
    return rows


def _half_unit(number: str) -> float:
    decimals = len(number.split(".")[1]) if "." in number else 0
    return 0.5 * 10.0 ** -decimals


def test_worked_example_tables_quote_the_engine_and_the_notes(capsys, monkeypatch):
    """Each table row's neurosim value is quoted from checked output (a doctest's or the
    report's) and agrees with the notes' printed value to the digits printed (1e-9 at
    least: the notes carry rounded intermediates); what a row says ``neurosim run`` prints
    is in the report."""
    report = _mazur_report(capsys, monkeypatch)
    checked = report + "\n".join(ex.want for ex in _worked_example_doctest().examples)
    rows = _tables(WORKED.read_text())
    assert len(rows) >= 30
    for row in rows:
        quantity, where = row["quantity"], row["where neurosim shows it"]
        notes = row["the notes print"].replace("−", "-")
        ours = [v.strip() for v in row["neurosim"].split(",")]
        for value in ours:
            assert re.search(rf"(?<![\d.]){re.escape(value)}(?!\d)", checked), \
                f"{quantity}: {value} is not in checked output"
        if notes != "—":
            assert len(ours) == 1, quantity
            tolerance = max(_half_unit(notes), _half_unit(ours[0]), 1e-9) * (1 + 1e-9)
            assert abs(float(notes) - float(ours[0])) <= tolerance, f"{quantity}: notes {notes}, neurosim {ours[0]}"
        if where.startswith("`neurosim run`:"):
            printed = where.split(";")[0]
            for text in re.findall(r"`([^`]*)`", printed)[1:] + re.findall(r"\d+\.\d+", printed):
                assert text in report, f"{quantity}: {text!r} is not in the report"


def test_worked_example_is_linked_from_the_readme_and_the_classics():
    assert "](docs/worked-example.md)" in (ROOT / "README.md").read_text()
    assert "](worked-example.md)" in (ROOT / "docs" / "classics.md").read_text()


# --- nothing in the repository points outside it -------------------------------------------

#: Paths of the machine the project was written on, which a clone does not have (spelt in
#: pieces so that this file does not match itself).
OUTSIDE = ("../" + "shared", "/" + "work/")
#: Where the check runs: the package, the plugins, the scenarios, the docs, the tests, the
#: benchmarks and the README.
CHECKED = ("scenarios", "docs", "neurosim", "plugins", "tests", "benchmarks", "README.md")


def _tracked_files():
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--", *CHECKED], cwd=ROOT, capture_output=True,
                             check=True).stdout
        files = [f for f in out.decode().split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        files = []
    if not files:                   # not a git checkout of the project: every file there
        files = [str(p.relative_to(ROOT)) for name in CHECKED for p in
                 ([ROOT / name] if (ROOT / name).is_file() else (ROOT / name).rglob("*"))
                 if p.is_file() and "__pycache__" not in p.parts]
    assert "README.md" in files
    return files


def _outside_mentions(rel):
    path = ROOT / rel
    if not path.is_file():          # deleted in the work tree, not yet in the index
        return []
    lines = path.read_bytes().decode("utf-8", errors="replace").splitlines()
    return [f"{rel}:{n}: {line.strip()}" for n, line in enumerate(lines, 1) if any(s in line for s in OUTSIDE)]


def test_nothing_points_outside_the_repository():
    """A user's clone has only the repository: no citation may lead to the folders the
    project was written beside. Cite docs/ instead, or say what the reader needs."""
    hits = [hit for rel in _tracked_files() for hit in _outside_mentions(rel)]
    assert not hits, "paths outside the repository:\n" + "\n".join(hits)
