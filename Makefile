# One obvious way to run each thing. Only Python (3.11+) and make are needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo serve test bench install clean help

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)  ## Create .venv and install the project with its test tools

demo: $(STAMP)  ## Install, load the demo data and serve on http://127.0.0.1:8000
	$(BIN)/secretariat demo
	$(BIN)/secretariat serve

serve: $(STAMP)  ## Serve without touching the data
	$(BIN)/secretariat serve

test: $(STAMP)  ## Install and run every test (PostgreSQL tests skip unless CI=true makes them mandatory)
	$(BIN)/pytest

bench: $(STAMP)  ## Print every benchmark's figures: commands, read models, follower, workers, scheduler, audit (about 45 minutes)
	$(BIN)/python bench/commands.py
	$(BIN)/python bench/read_models
	$(BIN)/python bench/follower.py
	$(BIN)/python bench/workers.py
	$(BIN)/python bench/scheduler
	$(BIN)/python bench/audit_verify.py
	$(BIN)/python bench/request_limits.py

clean:  ## Remove the virtual environment and local data
	rm -rf $(VENV) secretariat.db secretariat.db-* secretariat-secret.key
