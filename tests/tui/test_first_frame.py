"""The explorer's first frame ("loading models/simple.py …") never waits for `import torch`: the trace worker pays."""

from __future__ import annotations

import subprocess
import sys


def _modules_after(code: str) -> list[str]:
    """Run ``code`` in a fresh interpreter; the torch modules it left loaded."""
    script = "import sys\n" + code + "\nprint(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'torch')))\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return [name for name in done.stdout.strip().split(",") if name]


def test_importing_the_app_does_not_import_torch() -> None:
    assert _modules_after("import tui.app") == []


def test_building_the_app_and_its_explorer_does_not_import_torch() -> None:
    code = (
        "from tui.app import NnviewApp\n"
        "from tui.core.options import SessionOptions\n"
        "from tui.screens.explorer import ExplorerScreen\n"
        "options = SessionOptions('models/simple.py')\n"
        "app = NnviewApp(options)\n"
        "screen = ExplorerScreen(options, watch=False)\n"  # what on_mount builds before the first frame
        "assert screen.session.options is options and screen.session.loaded is None\n"
    )
    assert _modules_after(code) == []


def test_the_session_module_re_exports_the_same_options() -> None:
    code = (
        "from tui.core.options import SessionOptions\n"
        "from tui.core.session import SessionOptions as FromSession\n"
        "assert FromSession is SessionOptions and SessionOptions('m.py').budget_bytes == 268435456\n"
    )
    assert _modules_after(code) == []


def test_the_first_frame_says_loading_before_torch_is_imported() -> None:
    # The explorer's mount and first paint, in a pilot, while a trace worker that would import torch is held back.
    code = (
        "import asyncio\n"
        "from tui.app import NnviewApp\n"
        "from tui.core.options import SessionOptions\n"
        "from tui.screens.explorer import ExplorerScreen\n"
        "ExplorerScreen.trace = lambda self, reason: None\n"
        "async def main() -> None:\n"
        "    app = NnviewApp(SessionOptions('models/simple.py'), watch=False)\n"
        "    async with app.run_test(size=(80, 24)) as pilot:\n"
        "        await pilot.pause()\n"
        "        assert str(app.screen.query_one('#model-header').render()) == 'nnview  loading models/simple.py …'\n"
        "asyncio.run(main())\n"
    )
    assert _modules_after(code) == []
