"""Reading what the user names: model files, inputs, data sets, checkpoints, and the rules for arguments."""
