"""Documentation is part of the contract: docstrings, doctests and the plugin hook reference.

Every module of the package and of the built-in plugins opens with a docstring; every
public class and function has a numpydoc docstring with a Parameters section when it takes
parameters; the examples in docstrings run (doctest); and every hook in
``neurosim.hookspecs`` is documented in ``docs/plugins.md`` (the datasette rule: a hook
missing from the docs fails the build).
"""

import ast
import doctest
import importlib
import inspect
import re
from pathlib import Path

import pytest

import neurosim
import neurosim.hookspecs

ROOT = Path(__file__).resolve().parents[1]


SOURCES = sorted((ROOT / "neurosim").glob("*.py")) + sorted((ROOT / "plugins").glob("*.py"))


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


@pytest.mark.parametrize("name", ["neurosim.network", "neurosim.errors", "neurosim.plugins", "neurosim.datafiles"])
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
