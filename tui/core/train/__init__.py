"""Training a loaded model: the trainer, the one loop both front ends walk, health and decision boundaries."""
