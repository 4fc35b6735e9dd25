# Duban: `make run` serves the app on http://127.0.0.1:8000, `make test` runs every check.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Development defaults; production sets its own environment (see README).
export DEBUG ?= true
export DJANGO_SETTINGS_MODULE := config.settings
# The browser tests drive Playwright's sync API beside Django's live server.
export DJANGO_ALLOW_ASYNC_UNSAFE := true

.PHONY: install run serve migrate plan demo test browser pgclient backup restore lint format check bench loadtest messages clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --requirement requirements.lock
	touch $@

migrate: install
	$(BIN)/python manage.py migrate --no-input

plan: migrate
	$(BIN)/python manage.py load_plan

demo: plan
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py open_round 2024

# The notification worker runs in the background beside the server and stops with it.
run: demo
	@echo "督办已就绪:http://127.0.0.1:8000/ (演示账号见上表)"
	$(BIN)/python manage.py db_worker --no-reload & worker=$$!; trap 'kill $$worker' EXIT INT TERM; \
	$(BIN)/python manage.py runserver 127.0.0.1:8000

# Production on this machine: gunicorn (config/gunicorn.py) and the task worker, DEBUG off; needs SECRET_KEY
# and HISTORY_KEY in the environment (README, Deployment). Migrates and collects static files first.
serve: install
	DEBUG=false $(BIN)/python -m config.serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: install
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py check

test: browser pgclient lint check
	$(BIN)/pytest $(PYTEST_ARGS)

# One consistent archive of the database, the attachment files and the history checkpoints; its path is the
# last word printed. DIR=… to choose the folder (default BACKUP_DIR or var/backups).
backup: install pgclient
	$(BIN)/python manage.py backup $(if $(DIR),-o "$(DIR)")

# FILE=… into an empty database (DATABASE_URL) and an empty media folder; refuses anything else.
restore: install pgclient
	@test -n "$(FILE)" || { echo "请用 FILE=备份文件 指明要恢复的备份" >&2; exit 2; }
	$(BIN)/python manage.py restore "$(FILE)"

# pg_dump and pg_restore when DATABASE_URL is PostgreSQL: installed when missing and allowed, else named.
pgclient:
	.ci/pg-client

# Debian's Chromium and a Chinese font for the browser tests: installed when missing and allowed, else named.
browser:
	.ci/browser

# Speed against baselines measured in the same run, on the configured database (DATABASE_URL).
bench: install
	LOG_LEVEL=WARNING $(BIN)/python -m bench $(BENCH_ARGS)

# The served stack (gunicorn and the task worker) under 50 simulated users with locust, then at saturation, on a
# database and media folder of its own, removed after; LOADTEST_SECONDS (default 60), LOADTEST_USERS (default 50).
loadtest: install
	LOG_LEVEL=WARNING $(BIN)/python -m bench.load

# Rebuild the Chinese catalog after editing locale/zh_Hans/LC_MESSAGES/django.po (needs gettext).
messages:
	msgfmt --check -o locale/zh_Hans/LC_MESSAGES/django.mo locale/zh_Hans/LC_MESSAGES/django.po

clean:
	rm -rf $(VENV) db.sqlite3 test-db*.sqlite3* var
