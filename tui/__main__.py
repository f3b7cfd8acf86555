"""``python -m tui`` is the same as ``nnview``."""

from __future__ import annotations

from tui.cli import main

raise SystemExit(main())
