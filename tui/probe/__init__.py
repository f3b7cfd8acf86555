"""Watch your own training: ``Probe(model, run_dir)`` in the loop, ``nnview watch`` in a terminal.

Torch only: importing it loads no terminal library. The adapters for PyTorch Lightning
(``tui.probe.lightning``) and the Hugging Face Trainer (``tui.probe.hf``) are a few lines over it.
"""

from tui.core.probe.control import RunStopped
from tui.core.probe.probe import Probe

__all__ = ["Probe", "RunStopped"]
