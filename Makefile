# The two commands of the README: `make run` and `make test`.
.PHONY: build run test test-swift test-compat bench

build:
	swift build

run: build
	.build/debug/skylens serve

# Unit and integration tests (Swift Testing), the repository's rule tests (rules/tests), then the AWS SDK/CLI
# compatibility suite against the real binary.
test: build
	swift build --build-tests
	swift test --skip-build
	.build/debug/skylens rules test
	python3 -m pytest -q compat

test-swift: build
	swift build --build-tests
	swift test --skip-build

test-compat: build
	python3 -m pytest -q compat

# The ingest/storage/scan benchmark (release build, 1,000,000 corpus events). See Benchmarks/README.md.
bench:
	Benchmarks/run-log-bench.sh
