"""The process-wide plugin manager: entry-point plugins loaded once, on first use.

annolab calls the implementations itself (``implementations``) rather than through
``pm.hook``: a call site with no plugin pays one dict look-up, a refusal or an error can name
the plugin it came from, and one broken after hook does not keep the others from running.
"""

from __future__ import annotations

import importlib.metadata
import os
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pluggy

from annolab.errors import PluginError
from annolab.hooks import specs

GROUP = "annolab"
# Entry-point names to load (comma-separated); empty loads none. Unset loads every one.
LOAD_ENV = "ANNOLAB_LOAD_PLUGINS"

hookimpl = pluggy.HookimplMarker(specs.PROJECT)


class HookWarning(UserWarning):
    """An after hook (after a claim, a submit, a completed step) raised; the committed work
    stands. Make these raise with ``warnings.simplefilter("error", HookWarning)``."""


@dataclass(frozen=True)
class Loaded:
    """An entry-point plugin: its name, and the distribution that published it."""

    name: str
    distribution: str
    version: str
    value: str


class _State:
    """The process's plugin state (one instance, ``_state``)."""

    def __init__(self) -> None:
        self.pm: pluggy.PluginManager | None = None
        # The manager while its entry points load (they register into it): published as
        # ``pm`` only once every one loaded.
        self.building: pluggy.PluginManager | None = None
        self.loaded: list[Loaded] = []
        # hook name -> its implementations in call order; cleared when a plugin comes or goes.
        self.impls: dict[str, tuple[pluggy.HookImpl, ...]] = {}
        # Bumped on every change, so registries built from plugins (formats, kinds,
        # evaluators) know to ask again.
        self.generation = 0


_lock = threading.RLock()
_state = _State()
_impls = _state.impls
_loaded = _state.loaded


def plugin_manager() -> pluggy.PluginManager:
    """The process's plugin manager, with the entry-point plugins loaded on the first call.

    A plugin that fails to load raises ``PluginError`` here, and again on every later call
    until it is fixed, uninstalled or left out with ``ANNOLAB_LOAD_PLUGINS``: a process never
    runs on quietly without a plugin its environment installed.
    """
    pm = _state.pm
    if pm is not None:
        return pm
    with _lock:
        if _state.pm is not None:
            return _state.pm
        if _state.building is not None:
            return _state.building  # asked again while its entry points load
        pm = pluggy.PluginManager(specs.PROJECT)
        pm.add_hookspecs(specs)
        _state.building = pm
        try:
            load_entry_points()
        finally:
            _state.building = None
        _state.pm = pm
        _changed()
        return pm


def generation() -> int:
    """A number that changes whenever a plugin is registered or unregistered."""
    plugin_manager()
    return _state.generation


def _changed() -> None:
    _impls.clear()
    _state.generation += 1


def register(plugin: Any, name: str | None = None) -> str:
    """Register ``plugin`` (a module, class or object with ``@hookimpl`` functions) in this
    process; returns the name it is registered under.

    >>> import annolab.hooks as hooks
    >>> class Polite:
    ...     @hooks.hookimpl
    ...     def annolab_before_claim(self, user):
    ...         return None if user != "mallory" else "mallory is on a break"
    >>> name = hooks.register(Polite())
    >>> hooks.unregister(name)
    """
    pm = plugin_manager()
    with _lock:
        try:
            registered = pm.register(plugin, name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            msg = f"plugin={name or plugin!r} can not be registered: {exc}"
            raise PluginError(msg) from exc
        if registered is None:  # pluggy's answer for a plugin name that is blocked
            msg = f"plugin={name or plugin!r} is blocked from registering"
            raise PluginError(msg)
        _refuse_wrappers(pm, plugin, registered)
        _changed()
        return registered


def _refuse_wrappers(pm: pluggy.PluginManager, plugin: Any, name: str) -> None:
    for caller in pm.get_hookcallers(plugin) or ():
        for impl in caller.get_hookimpls():
            if impl.plugin is plugin and (impl.wrapper or impl.hookwrapper):
                pm.unregister(plugin)
                msg = (
                    f"plugin={name!r} implements {caller.name} as a wrapper; annolab calls "
                    "each implementation itself, so use a plain @hookimpl"
                )
                raise PluginError(msg)


def unregister(plugin: Any) -> None:
    """Remove a plugin, given as the object registered or the name ``register`` returned."""
    pm = plugin_manager()
    with _lock:
        if isinstance(plugin, str):
            found = pm.get_plugin(plugin)
            if found is None:
                known = ", ".join(name for name, _ in pm.list_name_plugin()) or "none"
                raise PluginError(f"plugin={plugin!r} is not registered; registered: {known}")
            plugin = found
        pm.unregister(plugin)
        _changed()


def load_entry_points(names: set[str] | None = None) -> list[Loaded]:
    """Load the plugins published in the ``annolab`` entry-point group that are not loaded
    yet (only those in ``names`` when given; by default the ``ANNOLAB_LOAD_PLUGINS`` list when
    it is set). Returns the ones loaded now.

    Like pluggy's ``load_setuptools_entrypoints("annolab")``, with an error that names the
    distribution and the entry point of a plugin that fails to import or register.
    """
    pm = plugin_manager()
    if names is None:
        names = _allowed()
    found: list[Loaded] = []
    with _lock:
        for dist, ep in _entry_points():
            if names is not None and ep.name not in names:
                continue
            if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
                continue
            where = f"entry point {ep.name!r} = {ep.value!r} of distribution {_label(dist)}"
            try:
                plugin = ep.load()
            except Exception as exc:
                msg = f"{where} failed to load: {type(exc).__name__}: {exc}"
                raise PluginError(msg) from exc
            try:
                register(plugin, ep.name)
            except PluginError as exc:
                raise PluginError(f"{where} is not a valid plugin: {exc}") from exc
            meta = dist.metadata
            found.append(Loaded(ep.name, meta["name"], dist.version, ep.value))
        _loaded.extend(found)
    return found


def _allowed() -> set[str] | None:
    value = os.environ.get(LOAD_ENV)
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def _entry_points() -> Iterator[tuple[importlib.metadata.Distribution, Any]]:
    for dist in importlib.metadata.distributions():
        for ep in dist.entry_points:
            if ep.group == GROUP:
                yield dist, ep


def _label(dist: importlib.metadata.Distribution) -> str:
    return f"{dist.metadata['name']} {dist.version}"


def loaded() -> list[Loaded]:
    """The entry-point plugins loaded in this process, in the order they were loaded."""
    plugin_manager()
    return list(_loaded)


def implementations(hook: str) -> tuple[pluggy.HookImpl, ...]:
    """The implementations of ``hook`` in the order pluggy would call them (the last
    registered first, ``tryfirst`` and ``trylast`` honoured); empty when no plugin has one."""
    try:
        return _impls[hook]
    except KeyError:
        pass
    caller = getattr(plugin_manager().hook, hook)
    with _lock:
        found = tuple(reversed(caller.get_hookimpls()))
        _impls[hook] = found
    return found


def call(impl: pluggy.HookImpl, kwargs: dict[str, Any]) -> Any:
    """One implementation called with the arguments it asks for."""
    return impl.function(*[kwargs[name] for name in impl.argnames])


def results(hook: str, **kwargs: Any) -> Iterator[tuple[str, Any]]:
    """(plugin name, result) of each implementation that returned something other than None.

    An error propagates with a note naming the plugin and the hook: this is for before hooks,
    whose errors must stop what they guard.
    """
    for impl in implementations(hook):
        try:
            result = call(impl, kwargs)
        except Exception as exc:
            exc.add_note(f"raised by plugin {impl.plugin_name!r} in {hook}")
            raise
        if result is not None:
            yield impl.plugin_name, result


def notify(hook: str, **kwargs: Any) -> None:
    """Call every implementation of an after hook; an error becomes a ``HookWarning`` naming
    the plugin, and the next implementation still runs."""
    for impl in implementations(hook):
        try:
            call(impl, kwargs)
        except Exception as exc:  # noqa: BLE001 (the work is committed: report, never undo)
            msg = (
                f"plugin {impl.plugin_name!r} failed in {hook} after the work was committed "
                f"(it stands): {type(exc).__name__}: {exc}"
            )
            warnings.warn(msg, HookWarning, stacklevel=3)


def contributions(hook: str) -> list[tuple[str, Any]]:
    """(plugin name, item) for every item each implementation of a contribution hook gives."""
    found: list[tuple[str, Any]] = []
    for plugin, given in results(hook):
        try:
            items = list(given)
        except TypeError as exc:
            msg = f"plugin {plugin!r}: {hook} must return a list, not {type(given).__name__}"
            raise PluginError(msg) from exc
        found.extend((plugin, item) for item in items)
    return found
