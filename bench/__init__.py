"""dlcore.bench: the microbenchmarks of every kernel family and the training-step benchmark (see __main__.py)."""
