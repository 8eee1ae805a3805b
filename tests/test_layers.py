"""The package's layers point down: import-linter checks the contract in pyproject.toml
(command line, scenarios, training, the network, plugins, the engine, neurons, the
basics, errors; each may import only from its own layer and those below), and the check
is shown to catch an upward import, so it cannot pass vacuously."""

from __future__ import annotations

import tomllib
from pathlib import Path

import importlinter.cli as importlinter        # comes with neurosim[test]

ROOT = Path(__file__).resolve().parents[1]


def lint(config: Path) -> int:
    return importlinter.lint_imports(config_filename=str(config), no_cache=True, no_logo=True)


def test_the_layers_point_down():
    assert lint(ROOT / "pyproject.toml") == 0


def test_an_upward_import_breaks_the_contract(tmp_path):
    # the same contract with the command line moved below the errors module it imports
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = config["contracts"][0]["layers"]
    broken = layers[1:-1] + [layers[-1], layers[0]]
    text = "\n".join([
        "[importlinter]", f"root_package = {config['root_package']}", "exclude_type_checking_imports = True", "",
        "[importlinter:contract:layers]", "name = upside down", "type = layers", "layers =",
        *(f"    {layer}" for layer in broken), "ignore_imports =",
        *(f"    {imp}" for imp in config["contracts"][0]["ignore_imports"])])
    (tmp_path / "setup.cfg").write_text(text)
    assert lint(tmp_path / "setup.cfg") == 1
