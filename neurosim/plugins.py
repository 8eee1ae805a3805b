"""Plugin discovery and the registry of activations, losses and initialisers.

:func:`make_registry` is the one factory: it creates a fresh pluggy plugin manager, adds
the hook specifications, loads every plugin advertised under the ``neurosim`` entry-point
group (the built-ins in ``plugins/`` are advertised there too, exactly like a third
party's), then the plugins passed in (module objects, dotted module names, paths to
``.py`` files, or any object with hook implementations), and checks that no hook name is
misspelt. It then asks each plugin for what it provides and validates everything in one
place (:class:`Registry`). Nothing is created at import time; one registry per run.

A registry records how it was made, so that it pickles (a pluggy plugin manager does not):
it is rebuilt on unpickling, from :func:`default_registry` for the default one and otherwise
from its plugins again: modules by dotted name or file path, other plugin objects by value.
Registries are read-only after creation, so :func:`copy.copy` and :func:`copy.deepcopy`
return the registry itself.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import importlib
import importlib.metadata
import importlib.util
import inspect
import os
import pickle
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pluggy

from . import hookspecs
from .errors import PluginError, did_you_mean, with_article
from .functions import Activation, Dataset, Initializer, Loss, Measure
from .rules import Optimizer, StopRule
from .io import FileError, regular_file

__all__ = ["Registry", "PluginInfo", "make_registry", "default_registry", "load_plugin", "plugin_name"]

ENTRY_POINT_GROUP = "neurosim"

#: kind -> (record class, hook name). One row per plugin kind; later kinds add a row.
KINDS: dict[str, tuple[type, str]] = {
    "activation": (Activation, "neurosim_register_activations"),
    "loss": (Loss, "neurosim_register_losses"),
    "initializer": (Initializer, "neurosim_register_initializers"),
    "dataset": (Dataset, "neurosim_register_datasets"),
    "measure": (Measure, "neurosim_register_measures"),
    "optimizer": (Optimizer, "neurosim_register_optimizers"),
    "stop criterion": (StopRule, "neurosim_register_stop_criteria"),
}
#: Kinds whose plugins register classes (subclasses of the kind's base), made with options
#: when used, rather than ready-made records.
CLASS_KINDS = ("optimizer", "stop criterion")


#: kind -> (its function that takes options, how many leading arguments are not options)
OPTION_FUNCTIONS: dict[str, tuple[str | None, int]] = {
    "initializer": ("draw", 3),
    "dataset": ("generate", 0),
    "measure": ("compute", 1),
    "optimizer": (None, 0),          # the class itself: its constructor's keywords
    "stop criterion": (None, 0),
}


def load_plugin(spec: Any, base_dir: str | Path | None = None) -> Any:
    """Turn a plugin reference into a plugin object (usually a module).

    Parameters
    ----------
    spec : str, os.PathLike or object
        A path to a ``.py`` file (relative paths are taken from ``base_dir``), a dotted
        module name (``"mypkg.neurosim_plugin"``), or an object that already carries hook
        implementations (returned unchanged).
    base_dir : str or Path, optional
        Folder that relative file paths are resolved against (a scenario's folder).

    Returns
    -------
    object
        The plugin object to register.

    Raises
    ------
    PluginError
        When a path is not a ``.py`` file, does not exist, is not a regular file (a
        directory, a FIFO, a symbolic link loop), or the module cannot be imported.
    """
    if isinstance(spec, os.PathLike) or (isinstance(spec, str) and (spec.endswith(".py") or "/" in spec or
                                                                     "\\" in spec)):
        path = Path(spec)
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        shown = os.path.abspath(path)      # as named: resolving would follow (and choke on) links
        must = "a plugin file must be a regular .py file, or give a dotted module name (mypkg.plugin)"
        if path.suffix != ".py":
            raise PluginError(f"plugin file {shown!r} is not a .py file; {must}")
        try:
            regular_file(path, what="a .py file")      # a FIFO would block the import forever
        except FileError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                relative = "relative to the scenario file" if base_dir is not None else "relative to this folder"
                raise PluginError(f"plugin file {shown!r} does not exist; give a path to a .py file "
                                  f"({relative}) or a dotted module name") from None
            raise PluginError(f"plugin file {shown!r} {exc.problem}; {must}") from None
        path = Path(os.path.realpath(path))
        digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
        mod_name = f"{USER_PLUGIN_PREFIX}{path.stem}_{digest}"
        if mod_name in sys.modules:
            return sys.modules[mod_name]
        spec_ = importlib.util.spec_from_file_location(mod_name, path)
        module = importlib.util.module_from_spec(spec_)
        sys.modules[mod_name] = module
        try:
            spec_.loader.exec_module(module)
        except BaseException as exc:          # Ctrl-C too: never leave a half-imported module behind
            del sys.modules[mod_name]
            if not isinstance(exc, Exception):
                raise
            raise PluginError(f"plugin file {str(path)!r} failed to import: {type(exc).__name__}: {exc}") from exc
        return module
    if isinstance(spec, str):
        try:
            return importlib.import_module(spec)
        except ImportError as exc:
            raise PluginError(f"plugin module {spec!r} cannot be imported ({exc}); install it, or give "
                              "a path to a .py file instead of a dotted name") from exc
        except Exception as exc:
            raise PluginError(f"plugin module {spec!r} failed to import: {type(exc).__name__}: {exc}") from exc
    return spec


def plugin_name(obj: Any) -> str:
    """A readable name for a plugin object: a module's name, else its class and id.

    Parameters
    ----------
    obj : object
        A module or any object with hook implementations.

    Returns
    -------
    str
        ``"my_plugin"`` for a module, ``"MyPlugin@7f3a…"`` for an instance.
    """
    name = getattr(obj, "__name__", None)
    if isinstance(name, str):
        return name
    return f"{type(obj).__qualname__}@{id(obj):x}"


class Registry:
    """Validated activations, losses and initialisers, each with the plugin that gave it.

    Build one with :func:`make_registry`; it reads its plugin manager once, at creation.
    A registry made by :func:`make_registry` or :func:`default_registry` can be pickled
    (see the module notes); one built here from a plugin manager directly cannot.

    Parameters
    ----------
    manager : pluggy.PluginManager
        A plugin manager with :mod:`neurosim.hookspecs` added and plugins registered.

    Raises
    ------
    PluginError
        Two plugins provide the same name, a plugin registers something that is not the
        right record type, or an activation lacks its derivative.

    Examples
    --------
    >>> reg = make_registry()
    >>> reg.activation("sigmoid")
    Activation('sigmoid')
    >>> sorted(reg.names("loss"))
    ['bce', 'cce', 'mse']
    """

    def __init__(self, manager: pluggy.PluginManager):
        self.manager = manager
        #: How to make this registry again (set by make_registry and default_registry):
        #: ``_DEFAULT``, or ``(plugins, entry_points)`` with ``plugins`` a tuple of
        #: ``(_ModuleRef or plugin object, plugin name)``; None when not known.
        self._recipe: Any = None
        self._items: dict[str, dict[str, Any]] = {kind: {} for kind in KINDS}
        self._owners: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}
        self._infos: list[PluginInfo] | None = None       # plugins(), read once (distribution metadata is slow)
        for kind, (_cls, hook_name) in KINDS.items():
            for impl in getattr(manager.hook, hook_name).get_hookimpls():
                register = functools.partial(self._register, kind, impl.plugin_name)
                kwargs = {"register": register} if "register" in impl.argnames else {}
                try:
                    impl.function(**kwargs)
                except PluginError:
                    raise
                except Exception as exc:
                    raise PluginError(f"plugin {impl.plugin_name!r} failed in {hook_name}: "
                                      f"{type(exc).__name__}: {exc}") from exc

    def _shown(self, plugin_name: str) -> str:
        """A plugin as its user knows it: a ``.py`` file by its path, anything else by its name."""
        plugin = self.manager.get_plugin(plugin_name)
        path = getattr(plugin, "__file__", None)
        if plugin_name.startswith(USER_PLUGIN_PREFIX) and path:
            return f"the file {path}"
        return repr(plugin_name)

    def _register(self, kind: str, plugin_name: str, obj: Any) -> None:
        cls = KINDS[kind][0]
        if kind in CLASS_KINDS:
            if not (isinstance(obj, type) and issubclass(obj, cls)) or inspect.isabstract(obj):
                raise PluginError(f"plugin {plugin_name!r} registered {obj!r} as {with_article(kind)}; register a "
                                  f"subclass of neurosim.{cls.__name__} that implements its abstract methods")
        elif not isinstance(obj, cls):
            raise PluginError(f"plugin {plugin_name!r} registered {obj!r} as {with_article(kind)}; "
                              f"register a neurosim.{cls.__name__}(...) instead")
        name = obj.name
        if not isinstance(name, str) or not name.strip():
            raise PluginError(f"plugin {plugin_name!r} registered {with_article(kind)} without a name; give name='...'")
        if name in self._items[kind]:
            first, second = self._shown(self._owners[kind][name]), self._shown(plugin_name)
            raise PluginError(f"{kind} {name!r} is provided by two plugins: {first} and {second}; rename one of "
                              "them or leave one plugin out (a file that is also installed as a distribution: "
                              "drop it from plugins = [...] or --plugin, the installed one is found by itself)")
        if kind == "activation":
            if obj.derivative is None and obj.vjp is None:
                raise PluginError(f"activation {name!r} from plugin {plugin_name!r} has neither a derivative "
                                  "nor a vjp; backpropagation needs one (derivative=lambda net, y: ...)")
            if obj.group and obj.vjp is None:
                raise PluginError(f"group activation {name!r} from plugin {plugin_name!r} must give vjp "
                                  "(the vector-Jacobian product over its group)")
        check = getattr(obj, "check_contract", None)
        if check is not None:
            try:
                check()
            except Exception as exc:          # the plugin's own code raised, or broke the contract
                raise PluginError(f"{kind} {name!r} from plugin {self._shown(plugin_name)} does not keep its contract: "
                                  f"{exc if isinstance(exc, ValueError) else f'{type(exc).__name__}: {exc}'}"
                                  ) from exc
        self._items[kind][name] = obj
        self._owners[kind][name] = plugin_name

    def get(self, kind: str, name: str) -> Any:
        """Return the registered object of ``kind`` called ``name``.

        Parameters
        ----------
        kind : {'activation', 'loss', 'initializer', 'dataset', 'measure'}
        name : str

        Raises
        ------
        PluginError
            When nothing of that kind is registered under ``name``; the message lists
            what is registered and the closest match.
        """
        try:
            return self._items[kind][name]
        except KeyError:
            raise PluginError(f"unknown {kind} {name!r}; {did_you_mean(name, self._items[kind])}") from None
        except TypeError:
            raise PluginError(f"{kind} must be given by name (a string), not {name!r}") from None

    def activation(self, name: str) -> Activation:
        """Return the activation registered as ``name`` (see :meth:`get`)."""
        return self.get("activation", name)

    def loss(self, name: str) -> Loss:
        """Return the loss registered as ``name`` (see :meth:`get`)."""
        return self.get("loss", name)

    def initializer(self, name: str) -> Initializer:
        """Return the initialiser registered as ``name`` (see :meth:`get`)."""
        return self.get("initializer", name)

    def options(self, kind: str, name: str) -> tuple[list[str], list[str]] | None:
        """The options ``kind`` ``name``'s function takes: ``(all, required)``.

        Parameters
        ----------
        kind : {'initializer', 'dataset', 'measure'}
        name : str

        Returns
        -------
        tuple of list of str, or None
            None when the function takes any keyword (``**options``) or cannot be
            inspected.
        """
        obj = self.get(kind, name)
        attr, n_fixed = OPTION_FUNCTIONS[kind]
        try:
            params = list(inspect.signature(obj if attr is None else getattr(obj, attr)).parameters.values())[n_fixed:]
        except (TypeError, ValueError):
            return None
        if any(p.kind is p.VAR_KEYWORD for p in params):
            return None
        named = [p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        return [p.name for p in named], [p.name for p in named if p.default is p.empty]

    def with_options(self, kind: str, name: str, options: Mapping[str, Any]) -> Any:
        """Return ``kind`` ``name`` after checking that its function accepts ``options``.

        Parameters
        ----------
        kind : {'initializer', 'dataset', 'measure'}
        name : str
        options : mapping
            Keyword options for its function (``draw``, ``generate``, ``compute``).

        Raises
        ------
        PluginError
            Unknown name, an option the function does not take (the message lists those
            it does and the closest), or a required option missing.
        """
        obj = self.get(kind, name)
        accepted = self.options(kind, name)
        if accepted is None:
            return obj
        known, required = accepted
        for key in options:
            if key not in known:
                raise PluginError(f"{kind} {name!r} has no option {key!r}; {did_you_mean(key, known, 'its options')}")
        missing = [m for m in required if m not in options]
        if missing:
            raise PluginError(f"{kind} {name!r} needs the option{'s' if len(missing) > 1 else ''} "
                              f"{', '.join(missing)}; give {' and '.join(f'{m} = ...' for m in missing)}")
        return obj

    def dataset(self, name: str) -> Dataset:
        """Return the dataset generator registered as ``name`` (see :meth:`get`)."""
        return self.get("dataset", name)

    def optimizer(self, name: str) -> type[Optimizer]:
        """Return the optimiser class registered as ``name`` (see :meth:`get`)."""
        return self.get("optimizer", name)

    def stop_criterion(self, name: str) -> type[StopRule]:
        """Return the stop criterion class registered as ``name`` (see :meth:`get`)."""
        return self.get("stop criterion", name)

    def measure(self, name: str) -> Measure:
        """Return the measure registered as ``name`` (see :meth:`get`)."""
        return self.get("measure", name)

    def names(self, kind: str) -> list[str]:
        """Return the registered names of ``kind``, sorted."""
        return sorted(self._items[kind])

    def owner(self, kind: str, name: str) -> str:
        """Return the name of the plugin that provides ``kind`` ``name``."""
        self.get(kind, name)
        return self._owners[kind][name]

    def listing(self) -> dict[str, list[tuple[str, str, str]]]:
        """Return ``{kind: [(name, plugin, description), ...]}`` for ``neurosim list``."""
        return {kind: [(n, self._owners[kind][n], _description(self._items[kind][n])) for n in self.names(kind)]
                for kind in KINDS}

    def plugins(self) -> list[PluginInfo]:
        """Every plugin in this registry: what it provides and where it was loaded from.

        The authoring view behind ``neurosim plugins`` (``neurosim list`` is the same
        registry by kind). Built-ins come first, in the order they were loaded. Read from
        the plugin manager and the installed distributions' metadata on the first call
        (milliseconds: every network saved or trained as an ensemble names its plugins'
        distributions) and kept, like the registry's records.

        Returns
        -------
        list of PluginInfo

        Examples
        --------
        >>> info = make_registry().plugins()[0]
        >>> info.name, info.origin, info.provides
        ('neurosim.activations', 'entry point', {'activation': ['identity', 'relu', 'sigmoid', 'softmax', 'tanh']})
        """
        if self._infos is None:
            self._infos = _plugin_infos(self)
        return [replace(info, provides=dict(info.provides), hooks=list(info.hooks)) for info in self._infos]

    def __repr__(self) -> str:
        counts = ", ".join(f"{len(v)} {k}{'es' if k.endswith('s') else 's'}" for k, v in self._items.items())
        return f"Registry({counts})"

    def __reduce__(self):
        """Pickle as the recipe that makes this registry again (its plugin manager does not pickle).

        Raises
        ------
        PluginError
            When the registry was not made by :func:`make_registry` or
            :func:`default_registry`, or one of its plugin objects cannot be pickled.
        """
        if self._recipe is _DEFAULT:
            return default_registry, ()
        if self._recipe is None:
            raise PluginError("this registry was built from a plugin manager directly, so it cannot be pickled "
                              "(nor can a network or result that uses it); make it with neurosim.make_registry(...)")
        plugins, _entry_points = self._recipe
        for obj, name in plugins:
            if isinstance(obj, _ModuleRef):
                continue
            try:
                pickle.dumps(obj)
            except Exception as exc:
                raise PluginError(f"plugin {name!r} cannot be pickled ({type(exc).__name__}: {exc}), so neither can "
                                  "the registry that holds it, nor a network or result that uses that registry; "
                                  "make the plugin a module (give its dotted name or .py path) or an instance of a "
                                  "class defined at the top level of a module") from None
        return _rebuild_registry, self._recipe

    def __copy__(self) -> Registry:
        return self              # read-only after creation: a copy would be the same registry

    def __deepcopy__(self, memo: dict) -> Registry:
        return self


#: The recipe of the registry :func:`default_registry` returns.
_DEFAULT = "default"


@dataclass(frozen=True)
class _ModuleRef:
    """A plugin module recorded for :func:`_rebuild_registry`: by name, and its file if any."""

    name: str
    file: str | None

    def spec(self) -> Any:
        """The module itself when imported (or importable) by name, else its file path."""
        module = sys.modules.get(self.name)
        if module is not None:
            return module
        try:
            return importlib.import_module(self.name)
        except ImportError:
            if self.file is None:
                raise PluginError(f"plugin module {self.name!r} cannot be imported here, so the registry that "
                                  "used it cannot be rebuilt; install it") from None
            return self.file       # a module loaded from a file: load it from there again


def _rebuild_registry(plugins: tuple, entry_points: bool) -> Registry:
    """Make a registry again from its recipe (the unpickling side of ``Registry.__reduce__``)."""
    specs = [obj.spec() if isinstance(obj, _ModuleRef) else obj for obj, _name in plugins]
    return _build_registry(specs, entry_points, None, [name for _obj, name in plugins])


def _description(obj: Any) -> str:
    """A registered object's one-line description (a class's: its docstring's first line)."""
    if isinstance(obj, type):
        return (inspect.getdoc(obj) or "").split("\n")[0]
    return getattr(obj, "description", "")


def make_registry(plugins: Iterable[Any] = (), *, entry_points: bool = True,
                  base_dir: str | Path | None = None) -> Registry:
    """Create a plugin manager, load plugins and return their validated :class:`Registry`.

    Parameters
    ----------
    plugins : iterable, optional
        Extra plugins: module objects, dotted module names, paths to ``.py`` files, or
        objects with ``@neurosim.hookimpl`` methods.
    entry_points : bool, default True
        Load the plugins advertised under the ``neurosim`` entry-point group, which
        include the built-ins. Turn off only to build a registry from scratch.
    base_dir : str or Path, optional
        Folder relative plugin file paths are resolved against.

    Returns
    -------
    Registry

    Raises
    ------
    PluginError
        A plugin cannot be loaded, implements a hook that does not exist (a misspelt
        name), or provides something invalid or already provided.
    """
    if isinstance(plugins, (str, bytes, Path)):
        raise PluginError(f"plugins must be a list of plugins (module objects, dotted module names, .py paths or "
                          f"plugin objects), not the single {type(plugins).__name__} {plugins!r}; write "
                          f"[{plugins!r}]")
    return _build_registry(plugins, entry_points, base_dir)


def _build_registry(plugins: Iterable[Any], entry_points: bool, base_dir: str | Path | None,
                    names: list[str] | None = None) -> Registry:
    """:func:`make_registry`, registering ``plugins[k]`` as ``names[k]`` when names are given
    (so a plugin object rebuilt from a pickle keeps the name it had), and recording the recipe."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    if entry_points:
        try:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        except Exception as exc:
            raise PluginError(f"a plugin advertised under the entry-point group {ENTRY_POINT_GROUP!r} failed to "
                              f"load: {type(exc).__name__}: {exc}; reinstall or uninstall that package") from exc
    recipe = []
    for k, spec in enumerate(plugins):
        obj = load_plugin(spec, base_dir)
        if pm.is_registered(obj):
            continue
        name = plugin_name(obj) if names is None else names[k]
        for attr in dir(obj):
            if attr.startswith("neurosim_") and callable(getattr(obj, attr, None)) and \
                    pm.parse_hookimpl_opts(obj, attr) is None:
                raise PluginError(f"plugin {name!r}: {attr} looks like a hook but is not marked "
                                  "@neurosim.hookimpl, so it would be ignored; add the decorator")
        if not inspect.ismodule(obj) and not any(attr.startswith("neurosim_") and
                                                 pm.parse_hookimpl_opts(obj, attr) is not None for attr in dir(obj)):
            raise PluginError(f"plugin {name!r} ({type(obj).__name__} {obj!r:.60}) implements no neurosim hook; a "
                              "plugin is a module, a .py path or an object with @neurosim.hookimpl functions named "
                              "neurosim_register_... (see docs/plugins.md)")
        try:
            pm.register(obj, name=name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            raise PluginError(f"plugin {name!r} cannot be registered: {exc}") from exc
        recorded = _ModuleRef(obj.__name__, getattr(obj, "__file__", None)) if inspect.ismodule(obj) else obj
        recipe.append((recorded, name))
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"{exc}; hooks neurosim knows: "
                          f"{', '.join(n for n in dir(hookspecs) if n.startswith('neurosim_'))}") from exc
    registry = Registry(pm)
    registry._recipe = (tuple(recipe), bool(entry_points))
    return registry


@functools.cache
def default_registry() -> Registry:
    """Return the registry of installed plugins, created on first use and then reused.

    Used by a :class:`~neurosim.Network` built without ``plugins=`` or ``registry=``.
    Scenario runs create their own registry with :func:`make_registry`. It pickles by
    reference: unpickled, it is this process's default registry.
    """
    registry = make_registry()
    registry._recipe = _DEFAULT
    return registry


# --- what each plugin is and where it came from (``neurosim plugins``) ---------------------

#: How :func:`load_plugin` names a module it loads from a ``.py`` file.
USER_PLUGIN_PREFIX = "neurosim_user_plugin_"


def owning_distribution(module_name: str | None) -> tuple[str | None, str | None]:
    """The installed distribution that provides a module, and its version.

    Parameters
    ----------
    module_name : str or None
        A dotted module name (its top-level package decides).

    Returns
    -------
    tuple
        ``(distribution, version)``, or ``(None, None)`` for a module no installed
        distribution provides (``__main__``, a ``.py`` file loaded by path).
    """
    if not module_name or module_name == "__main__" or module_name.startswith(USER_PLUGIN_PREFIX):
        return None, None
    for dist in importlib.metadata.packages_distributions().get(module_name.partition(".")[0], []):
        try:
            return dist, importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None, None



@dataclass(frozen=True)
class PluginInfo:
    """One plugin of a registry, as ``neurosim plugins`` shows it.

    Attributes
    ----------
    name : str
        The name it is registered under: its entry point's name, a module's name (for a
        ``.py`` file, ``neurosim_user_plugin_<stem>_<hash>``), or ``Class@id`` for an object.
    origin : {'entry point', 'file', 'module', 'object'}
        How it was loaded: advertised by an installed distribution, given as the path
        of a ``.py`` file, as a dotted module name (or module), or as a plugin object.
    provides : dict
        ``{kind: [names]}`` of what it registered, kinds in :data:`KINDS` order.
    hooks : list of str
        Every hook it implements (the ``neurosim_register_...`` ones and the training
        hooks, ``neurosim_epoch_end`` ...).
    distribution, version : str or None
        The installed distribution it belongs to and its version; None for a file or an
        object that no distribution installed.
    entry_point : str or None
        ``name = module`` as the distribution advertises it (group ``neurosim``).
    module, file : str or None
        The module's name and the file it was imported from.
    """

    name: str
    origin: str
    provides: dict
    hooks: list
    distribution: str | None = None
    version: str | None = None
    entry_point: str | None = None
    module: str | None = None
    file: str | None = None

    def to_dict(self) -> dict:
        """The fields as a plain dict (what ``neurosim plugins --json`` prints)."""
        return {field_: getattr(self, field_) for field_ in self.__dataclass_fields__}


def _plugin_infos(registry: Registry) -> list[PluginInfo]:
    """The :class:`PluginInfo` of every plugin registered in ``registry``'s manager."""
    pm = registry.manager
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    infos = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:                              # blocked
            continue
        provides = {kind: [n for n in registry.names(kind) if registry.owner(kind, n) == name] for kind in KINDS}
        provides = {kind: names for kind, names in provides.items() if names}
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        module = plugin.__name__ if inspect.ismodule(plugin) else None
        file = getattr(plugin, "__file__", None) if module else None
        dist = dists.get(id(plugin))
        if dist is not None:
            entry = next((f"{ep.name} = {ep.value}" for ep in dist.entry_points
                          if ep.group == ENTRY_POINT_GROUP and ep.name == name), None)
            infos.append(PluginInfo(name, "entry point", provides, hooks, dist.metadata["name"], dist.version,
                                    entry, module, file))
            continue
        distribution, version = owning_distribution(module)
        origin = "object" if module is None else "file" if module.startswith(USER_PLUGIN_PREFIX) else "module"
        infos.append(PluginInfo(name, origin, provides, hooks, distribution, version, None, module, file))
    return infos
