"""tui.core is a library you could publish on its own: importing it loads no terminal code."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_core_loads_no_terminal_library() -> None:
    code = (
        "import sys\n"
        "import importlib, pkgutil, tui.core\n"
        "for m in pkgutil.walk_packages(tui.core.__path__, 'tui.core.'): importlib.import_module(m.name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'textual', 'rich', 'plotext', 'textual_plotext'}"
        " or m in {'tui.app', 'tui.report', 'tui.commands.main'})\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_tracing_does_not_import_torch_dynamo() -> None:
    code = (
        "import sys, torch\n"
        "from tui.core.example_input import ExampleInput\n"
        "from tui.core.trace.tracing import trace_model\n"
        "trace_model(torch.nn.Linear(3, 2), ExampleInput((torch.randn(1, 3),)))\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"  # importing dynamo costs over a second of start-up


def test_tracing_is_a_library_for_any_module_and_loads_no_model_file_loader() -> None:
    code = (
        "import sys, torch\n"
        "from tui.core.example_input import ExampleInput\n"
        "from tui.core.trace.tracing import trace_model\n"
        "result = trace_model(torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU()), "
        "ExampleInput((torch.randn(1, 3),)))\n"
        "loaders = sorted(m for m in sys.modules if m.startswith('tui.core.load'))\n"
        "print(len(result.layers), result.totals.params, loaders)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "3 8 []"
