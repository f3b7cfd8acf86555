"""LLaMA-7B built at module level (``model = Llama()``), the way most model files are written.

Only for ``--meta``: run for real, this file allocates the 27 GB of weights at import. nnview runs
the file's top level on the meta device under ``--meta``, so this form must cost the same time and
memory as ``llama7b.py``'s ``build_model()`` form (bench/meta.py compares the two).
"""

from __future__ import annotations

from llama7b import Llama, example_input

model = Llama()

__all__ = ["example_input", "model"]
