"""Where annolab keeps its own state on this machine."""

from __future__ import annotations

import os
from pathlib import Path


def annolab_home() -> Path:
    """``$ANNOLAB_HOME``, else ``~/.annolab``: the embedded database, the user's own layouts
    and prompts."""
    return Path(os.environ.get("ANNOLAB_HOME") or Path.home() / ".annolab").expanduser()
