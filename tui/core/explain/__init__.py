"""Reading a trace for people: what one neuron computed, the class probabilities, how a layer folds the plane."""
