# The two commands a newcomer needs: `make run` and `make test`. Both set up
# what is missing first.
.PHONY: setup run test lint clean

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/vigil run $(ARGS)

test: setup
	.venv/bin/python -m pytest

lint: setup
	.venv/bin/ruff check .
	.venv/bin/mypy vigil gateway ingest alerts api simulators benchmarks dashboards reports

clean:
	rm -rf .vigil .pytest_cache .mypy_cache .ruff_cache
