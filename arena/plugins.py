"""Build the plugin manager: entry points, local plugin files, and the registry.

Built-in plugins are found exactly like third-party ones, through the ``arena``
entry-point group, so a fresh manager in every process (CLI, test, worker)
sees the same plugins. Set ``ARENA_PLUGINS`` to a comma-separated list of
entry-point names to load only those (an empty value loads none).

pluggy calls only functions marked with ``@arena.hookimpl``; an unmarked
``register_players`` is silently never called, and the user only learns of it
from "unknown player type". So every plugin loaded here is checked for
functions named like a hook (or nearly) that lack the mark, and each one is
reported with a :class:`PluginWarning`.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import os
import sys
import warnings
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any, Iterable, NamedTuple

import pluggy

from arena import hookspecs
from arena.errors import ConfigError, PluginError

ALLOW_LIST_ENV = "ARENA_PLUGINS"
ENTRY_POINT_GROUP = "arena"
REGISTRATION_HOOKS = {
    "register_players": "players",
    "register_raters": "raters",
    "register_trainers": "trainers",
    "register_executors": "executors",
}

hookimpl = pluggy.HookimplMarker("arena")
#: The attribute pluggy's marker sets on a decorated function.
HOOKIMPL_ATTRIBUTE = "arena_impl"
#: How close an unmarked function's name must be to a hook's to be reported as a likely hook.
NEAR_MISS_CUTOFF = 0.85


#: Warnings already shown in this process: the CLI loads entry-point plugins twice with --plugin files.
_WARNED: dict[Any, Any] = {}


class PluginWarning(UserWarning):
    """A plugin that loads but probably does not do what its author meant."""


@dataclass
class PluginInfo:
    """What ``arena plugins`` shows about one loaded plugin."""

    name: str
    version: str | None
    source: str
    hooks: list[str] = field(default_factory=list)
    players: list[str] = field(default_factory=list)
    raters: list[str] = field(default_factory=list)
    trainers: list[str] = field(default_factory=list)
    executors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PluginRecipe:
    """How to load the same plugins in another process (a league's workers): plain, picklable data.

    Entry-point plugins are found again by every process. Local files are kept
    as absolute paths; a plugin registered in code travels by its importable
    name when it is a module, else as the object itself (pickled).
    """

    files: tuple[str, ...] = ()
    extra: tuple[tuple[str, Any], ...] = ()  #: (plugin name, module name or plugin object)
    modules: tuple[str, ...] = ()  #: the plugin modules importable by name, which workers may import ahead

    def load(self) -> Plugins:
        """A fresh plugin manager with these plugins."""
        return load_plugins(self.files, [(name, _imported(ref)) for name, ref in self.extra])


def _imported(ref: Any) -> Any:
    return importlib.import_module(ref) if isinstance(ref, str) else ref


def _reference(plugin: Any) -> Any:
    """What stands for an in-code plugin in a :class:`PluginRecipe`: a module's name, else the plugin."""
    if isinstance(plugin, ModuleType) and plugin.__name__ != "__main__":
        return plugin.__name__
    return plugin


class Plugins:
    """A plugin manager and everything its plugins registered."""

    def __init__(self, pm: pluggy.PluginManager, sources: dict[str, tuple[str | None, str]],
                 recipe: PluginRecipe = PluginRecipe()):
        self.pm = pm
        self._sources = sources
        self.recipe = recipe  #: how another process loads these same plugins
        self.players: dict[str, type] = {}
        self.raters: dict[str, Any] = {}
        self.trainers: dict[str, Any] = {}
        self.executors: dict[str, type] = {}
        self._owners: dict[tuple[str, str], str] = {}
        for hook_name, kind in REGISTRATION_HOOKS.items():
            self._collect(hook_name, kind)

    @property
    def files(self) -> tuple[str, ...]:
        """The local plugin files loaded, as absolute paths."""
        return self.recipe.files

    def with_files(self, files: Iterable[str | Path]) -> Plugins:
        """These plugins plus the local plugin ``files`` (self when they are all loaded already).

        A file already loaded is not loaded again: it would register its players twice.
        """
        new = tuple(file for file in _absolute(files) if file not in self.files)
        if not new:
            return self
        return PluginRecipe(self.files + new, self.recipe.extra).load()

    @property
    def hook(self) -> Any:
        """The pluggy hook relay, for notification hooks: ``plugins.hook.game_finished(...)``."""
        return self.pm.hook

    def _collect(self, hook_name: str, kind: str) -> None:
        table: dict[str, Any] = getattr(self, kind)
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():  # registration order
            plugin = impl.plugin_name

            def register(name: str, thing: Any, plugin: str = plugin) -> None:
                if not isinstance(name, str) or not name:
                    raise PluginError(f"plugin {plugin!r} registered a {kind[:-1]} with an empty or non-text name")
                if name in table:
                    raise PluginError(
                        f"plugin {plugin!r} registers {kind[:-1]} {name!r}, which plugin "
                        f"{self._owners[kind, name]!r} already registered; rename one of them"
                    )
                table[name] = thing
                self._owners[kind, name] = plugin

            try:
                impl.function(register)
            except PluginError:
                raise
            except Exception as error:
                raise PluginError(f"plugin {plugin!r} failed in {hook_name}: {error!r}") from error

    def owner(self, kind: str, name: str) -> str:
        """The plugin that registered ``name`` among ``kind`` ('players', 'raters', 'trainers', 'executors')."""
        return self._owners[kind, name]

    def info(self) -> list[PluginInfo]:
        """One entry per loaded plugin, sorted by name."""
        infos = []
        for name, plugin in self.pm.list_name_plugin():
            version, source = self._sources.get(name, (None, "registered in code"))
            hooks = sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or [])
            entry = PluginInfo(name=name, version=version, source=source, hooks=hooks)
            for (kind, thing), owner in self._owners.items():
                if owner == name:
                    getattr(entry, kind).append(thing)
            infos.append(entry)
        return sorted(infos, key=lambda info: info.name)


def _allow_list() -> set[str] | None:
    value = os.environ.get(ALLOW_LIST_ENV)
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


def load_module_file(path: str | Path) -> ModuleType:
    """Import a Python file as a module, for plugins that are not packaged."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"plugin file {str(path)!r} does not exist; give the path of a .py file")
    spec = importlib.util.spec_from_file_location(f"arena_local_plugin_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"plugin file {str(path)!r} is not a Python module; give a .py file")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        raise PluginError(f"plugin file {str(path)!r} failed to import: {error!r}") from error
    return module


def load_plugins(
    plugin_files: Iterable[str | Path] = (), extra: Iterable[tuple[str, Any]] = ()
) -> Plugins:
    """Build a fresh plugin manager with every allowed entry-point plugin.

    ``plugin_files`` are local .py files loaded as plugins too; ``extra`` are
    ``(name, plugin_object)`` pairs registered in code (tests, embedding).
    """
    pm = pluggy.PluginManager("arena")
    pm.add_hookspecs(hookspecs)
    sources: dict[str, tuple[str | None, str]] = {}
    allowed = _allow_list()

    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        if allowed is not None and entry_point.name not in allowed:
            continue
        if pm.has_plugin(entry_point.name):
            continue  # the same distribution seen twice on sys.path
        distribution = entry_point.dist
        try:
            plugin = entry_point.load()
        except Exception as error:
            raise PluginError(
                f"plugin {entry_point.name!r} ({entry_point.value}, from "
                f"{distribution.name if distribution else 'unknown package'}) failed to import: {error!r}; "
                f"fix or uninstall it, or leave it out with {ALLOW_LIST_ENV}=name,name,..."
            ) from error
        _register(pm, plugin, entry_point.name)
        sources[entry_point.name] = (
            distribution.version if distribution else None,
            f"package {distribution.name}" if distribution else entry_point.value,
        )

    # One file named twice (relative and absolute) is loaded once: twice, it would register its players twice.
    unique: dict[str, str | Path] = {}
    for file in plugin_files:
        unique.setdefault(str(Path(file).resolve()), file)
    plugin_files = list(unique.values())
    extra = list(extra)
    for path in plugin_files:
        module = load_module_file(path)
        _register(pm, module, str(path))
        sources[str(path)] = (getattr(module, "__version__", None), f"file {path}")

    for name, plugin in extra:
        _register(pm, plugin, name)

    try:
        pm.check_pending()
    except pluggy.PluginValidationError as error:
        raise PluginError(
            f"plugin {pm.get_name(error.plugin)!r}: {error}; the hooks are {', '.join(hook_names())}"
        ) from error
    modules = tuple(plugin.__name__ for plugin in pm.get_plugins()
                    if isinstance(plugin, ModuleType) and sys.modules.get(plugin.__name__) is plugin
                    and plugin.__name__ != "__main__")
    recipe = PluginRecipe(_absolute(plugin_files), tuple((name, _reference(plugin)) for name, plugin in extra), modules)
    return Plugins(pm, sources, recipe)


def _absolute(files: Iterable[str | Path]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(Path(file).resolve()) for file in files))


def _is_hook(name: str) -> bool:
    return hasattr(getattr(hookspecs, name), "arena_spec")


def _register(pm: pluggy.PluginManager, plugin: Any, name: str) -> None:
    try:
        pm.register(plugin, name=name)
    except (pluggy.PluginValidationError, ValueError) as error:
        raise PluginError(f"plugin {name!r} could not be registered: {error}") from error
    if _in_main_process():  # workers load the same plugins the parent has already checked
        for finding in unmarked_hooks(plugin, name):
            # Attributed to the function's own line, so the warning shows the plugin's code, not arena's.
            warnings.warn_explicit(
                finding.message, PluginWarning, finding.filename, finding.lineno, registry=_WARNED
            )


def hook_names() -> list[str]:
    """The names of every hook a plugin can implement, sorted."""
    return sorted(name for name in dir(hookspecs) if _is_hook(name))


class UnmarkedHook(NamedTuple):
    """A plugin function that looks like a hook implementation but lacks ``@arena.hookimpl``."""

    function: str
    message: str
    filename: str
    lineno: int


def unmarked_hooks(plugin: Any, name: str) -> list[UnmarkedHook]:
    """Every function of ``plugin`` that looks like a hook but lacks ``@arena.hookimpl``.

    A function named exactly like a hook is always reported. One named nearly
    like a hook (``register_player``) is reported when the plugin itself
    defines it (not when it imports it), since then it is probably a misspelt hook.
    """
    hooks = hook_names()
    found = []
    for attribute in sorted(dir(plugin)):
        function = None if attribute.startswith("_") else getattr(plugin, attribute, None)
        if not callable(function) or isinstance(function, type) or hasattr(function, HOOKIMPL_ATTRIBUTE):
            continue
        message = _unmarked_message(attribute, function, plugin, name, hooks)
        if message:
            found.append(UnmarkedHook(attribute, message, *_where(function, name)))
    return found


def _unmarked_message(attribute: str, function: Any, plugin: Any, name: str, hooks: list[str]) -> str | None:
    """What to tell the author of an unmarked function ``attribute``, or None if it is no hook."""
    if attribute in hooks:
        return (
            f"plugin {name!r}: {attribute}() is not marked with @arena.hookimpl, so arena never "
            f"calls it; put @arena.hookimpl on the line above 'def {attribute}'"
        )
    close = difflib.get_close_matches(attribute, hooks, n=1, cutoff=NEAR_MISS_CUTOFF)
    if not close or not _defined_by(function, plugin):
        return None
    return (
        f"plugin {name!r}: {attribute}() looks like the hook {close[0]}() but is not marked with "
        f"@arena.hookimpl, so arena never calls it; if it is meant as that hook, rename it "
        f"{close[0]} and put @arena.hookimpl above it"
    )


def _where(function: Any, plugin_name: str) -> tuple[str, int]:
    """The file and line where ``function`` is defined, or the plugin's name and 0 where unknown."""
    code = getattr(getattr(function, "__func__", function), "__code__", None)
    if code is None:
        return plugin_name, 0
    return code.co_filename, code.co_firstlineno


def _defined_by(function: Any, plugin: Any) -> bool:
    """True if ``function`` is the plugin's own: defined in its module (or class), not imported."""
    module = plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__module__
    return getattr(function, "__module__", None) == module


def _in_main_process() -> bool:
    """False in the worker processes a league starts (``multiprocess``, forked from its fork server)."""
    import multiprocess

    return multiprocess.parent_process() is None
