"""Extension points: pluggy hooks that plugins implement to change or extend annolab.

A plugin is published as an entry point in the ``annolab`` group (loaded once per process, on
first use; ``ANNOLAB_LOAD_PLUGINS=name,other`` loads only those, ``ANNOLAB_LOAD_PLUGINS=``
none) or registered in the running process with ``register``. The hooks are in
``annolab.hooks.specs`` and described in ``docs/hooks.md``.

>>> import annolab.hooks as hooks
>>> class NoWeekends:
...     @hooks.hookimpl
...     def annolab_before_claim(self, project, user):
...         return None  # or a reason, to refuse the claim
>>> name = hooks.register(NoWeekends())
>>> hooks.unregister(name)
"""

from __future__ import annotations

from annolab.hooks.manager import (
    HookWarning,
    Loaded,
    hookimpl,
    load_entry_points,
    loaded,
    plugin_manager,
    register,
    unregister,
)

__all__ = [
    "HookWarning",
    "Loaded",
    "hookimpl",
    "load_entry_points",
    "loaded",
    "plugin_manager",
    "register",
    "unregister",
]
