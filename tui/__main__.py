"""``python -m tui`` is the same as ``nnview``."""

from __future__ import annotations

from tui.commands.main import main

raise SystemExit(main())
