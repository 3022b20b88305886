# Healer: the commands a developer and CI use. `make help` lists them.
.PHONY: help setup build lint test bench-query clean

help:
	@echo "make test         install dependencies (Debian packages), lint, build, run every test"
	@echo "make build        debug build of everything"
	@echo "make lint         swift-format check (scripts/lint --fix rewrites)"
	@echo "make bench-query  Prometheus client vs hey throughput -> bench/results/"

setup:
	@scripts/setup

build: setup
	swift build --build-tests

lint:
	@scripts/lint

test: setup lint
	swift build --build-tests
	swift test --disable-xctest

bench-query: setup
	bench/query-throughput.sh

clean:
	rm -rf .build
