"""The nnview subcommands, side by side: the explorer, ``summary`` and ``train``, and what they share."""
