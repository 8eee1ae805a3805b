"""``python -m neurosim``: the same as the ``neurosim`` command."""

import sys

try:
    from .cli import main
except KeyboardInterrupt:              # Ctrl-C while numpy and friends are still importing
    print("neurosim: interrupted while starting; nothing was written", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
