"""The probe: a few lines in someone's own training loop that write a run folder ``nnview watch`` shows live.

Torch only, no terminal library. :class:`tui.core.probe.probe.Probe` is the public entry (``tui.probe.Probe``).
"""
