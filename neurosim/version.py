"""The installed neurosim's version, for the files neurosim writes and for ``--version``.

Results (``summary.json``), checkpoints and saved networks record which neurosim wrote them;
this module is the one place that asks the installed distribution, so that every layer can
read the version without importing the package's front (which imports everything).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("neurosim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
