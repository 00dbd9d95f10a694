.PHONY: check lint types test bench

check: lint types test

lint:
	ruff check convcli tests benchmarks
	ruff format --check convcli tests benchmarks

types:
	mypy --strict convcli

test:
	pytest

bench:
	python benchmarks/bench_conv2d.py
