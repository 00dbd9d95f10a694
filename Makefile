.PHONY: check lint test bench

check: lint test

lint:
	ruff check convcli tests benchmarks
	ruff format --check convcli tests benchmarks

test:
	pytest

bench:
	python benchmarks/bench_conv2d.py
