"""The Lead MS benchmark suite: data generator, benchmarks and `python -m bench.run`."""
