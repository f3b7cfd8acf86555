"""TensorBoard both ways: write event files (training, the probe) and read them back live (``nnview watch``).

The ``tensorboard`` package is optional (``pip install -e ".[tensorboard]"``) and imported only when a
log is written or read; a missing package is a clear :class:`~tui.core.error_records.NnviewError`.
Writing goes through ``torch.utils.tensorboard.SummaryWriter`` and reading through TensorBoard's own
``plugin_event_accumulator``, so what nnview writes and reads is what TensorBoard (and ``tbparse``) do.
"""
