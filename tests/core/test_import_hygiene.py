"""tui.core is a library you could publish on its own: importing it loads no terminal code."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_core_loads_no_terminal_library() -> None:
    code = (
        "import sys\n"
        "import tui.core.session, tui.core.tracing, tui.core.loading, tui.core.diagnosis, tui.core.stats\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'textual', 'rich', 'plotext', 'textual_plotext'}"
        " or m in {'tui.app', 'tui.report', 'tui.cli'})\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_tracing_does_not_import_torch_dynamo() -> None:
    code = (
        "import sys, torch\n"
        "from tui.core.inputs import ExampleInput\n"
        "from tui.core.tracing import trace_model\n"
        "trace_model(torch.nn.Linear(3, 2), ExampleInput((torch.randn(1, 3),)))\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"  # importing dynamo costs over a second of start-up
