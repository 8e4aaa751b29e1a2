# The project's commands. `make run` and `make test` are the two that matter; see README.md.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
SERVICES := user_center depository_agent bank_callback beanpay_ledger bank_sandbox lending partner_sandbox
URLS := user-center=http://127.0.0.1:8001 depository-agent=http://127.0.0.1:8002 \
        bank-callback=http://127.0.0.1:8003 beanpay-ledger=http://127.0.0.1:8004 bank-sandbox=http://127.0.0.1:8005 \
        lending=http://127.0.0.1:8006 partner-sandbox=http://127.0.0.1:8007
export PYTHONPATH := $(CURDIR):$(CURDIR)/services
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# The funder lending disburses from: opened and funded once through the platform's own flows (shared/funder.py);
# its userNo goes to FUNDER_FILE, which deploy/local.env points lending's FUNDER_USER_NOS_FILE at.
FUNDER := $(PY) -m shared.funder --state deploy/keys/funder.json --output deploy/keys/funder_user_nos
# one per core of the 2-core machines the suite is sized for; every worker runs whole stacks of its own
TEST_WORKERS ?= 2

.PHONY: venv keys servers migrate run up down test bench chaos clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

keys: venv
	$(PY) -m shared.devkeys deploy/keys

servers:
	bash deploy/ensure-servers.sh

migrate: venv keys servers
	@for service in $(SERVICES); do $(PY) -m $$service migrate || exit 1; done

run: migrate
	@echo "Starting the stack (Ctrl-C stops everything):"; for u in $(URLS); do echo "  $${u/=/  }"; done
	@echo "  web frontend      http://127.0.0.1:8001/"
	@echo "  partner sandbox   http://127.0.0.1:8007/  (push a loan order, then walk it)"
	@set -a; . deploy/local.env; set +a; $(FUNDER) --wait 180 & \
	honcho start -f Procfile -e deploy/local.env

up: migrate
	@mkdir -p .run
	@if [ -f .run/honcho.pid ] && kill -0 $$(cat .run/honcho.pid) 2>/dev/null; then echo "already up"; exit 0; fi
	@setsid honcho start -f Procfile -e deploy/local.env > .run/stack.log 2>&1 & echo $$! > .run/honcho.pid
	@for u in $(URLS); do name=$${u%%=*}; url=$${u#*=}; \
	  for i in $$(seq 1 60); do curl -fs $$url/healthz >/dev/null && break; sleep 0.5; \
	    [ $$i = 60 ] && { echo "$$name did not answer $$url/healthz; see .run/stack.log"; exit 1; }; done; \
	  echo "  $$name  $$url"; done
	@set -a; . deploy/local.env; set +a; $(FUNDER) || { echo "the funder could not be funded; see .run/stack.log"; exit 1; }
	@echo "  partner sandbox page  http://127.0.0.1:8007/"
	@echo "stack is up (logs: .run/stack.log, stop: make down)"

down:
	@if [ -f .run/honcho.pid ]; then kill -TERM -- -$$(cat .run/honcho.pid) 2>/dev/null || kill $$(cat .run/honcho.pid) 2>/dev/null; rm -f .run/honcho.pid; echo "stack stopped"; else echo "not running"; fi

# The suite in two passes: every test not marked serial on TEST_WORKERS xdist workers (each module's tests
# on one worker, so that its module fixtures start once), then the serial ones alone; fails if either did.
test: venv
	bash deploy/ensure-servers.sh
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadscope -m "not serial"; parallel=$$?; \
	$(PY) -m pytest -m serial; serial=$$?; \
	test $$parallel = 0 -a $$serial = 0

bench: venv servers
	$(PY) -m bench

chaos: venv servers
	$(PY) -m chaos

clean: down
	rm -rf $(VENV) .run .pytest_cache .hypothesis
