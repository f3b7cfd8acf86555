"""Run folders: what a probe writes while someone else's training runs, and what ``nnview watch`` reads."""
