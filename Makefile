# Healer: the commands a developer and CI use. `make help` lists them.
.PHONY: help setup build lint rules test demo bench-query bench-scale fuzz clean

help:
	@echo "make demo         the live demo: Prometheus, HAProxy, backends, Alertmanager, Healer, load and faults (DURATION=150)"
	@echo "make test         install dependencies (Debian packages), lint, build, run every test"
	@echo "make build        debug build of everything"
	@echo "make lint         swift-format check (scripts/lint --fix rewrites)"
	@echo "make rules        promtool check and unit tests of rules/prometheus, amtool check of examples/alertmanager.yml"
	@echo "make bench-query  Prometheus client vs hey throughput -> bench/results/"
	@echo "make bench-scale  one reconcile pass over 1k/10k/50k targets -> bench/results/scale.md"
	@echo "make fuzz         libFuzzer on every parser, FUZZ_SECONDS in all (default 300) -> bench/results/fuzz.md"

setup:
	@scripts/setup

build: setup
	swift build --build-tests

lint:
	@scripts/lint

rules: setup
	promtool check rules rules/prometheus/*.yml
	promtool test rules rules/prometheus/tests/*.yml
	amtool check-config examples/alertmanager.yml

demo:
	scripts/demo --duration $(or $(DURATION),150)

test: setup lint rules
	swift build --build-tests
	swift test --disable-xctest

bench-query: setup
	bench/query-throughput.sh

bench-scale: setup
	bench/scale.sh

fuzz: setup
	scripts/fuzz

clean:
	rm -rf .build
