# Every target needs only python3 on a fresh machine; `make install` creates .venv.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SRC := src/detainers

.PHONY: install test check lint typecheck fmt demo docs bench screenshots lock clean notice-fonts notice-pages

# The install compiles src/detainers/ingest/_md5rows.c (hatch_build.py): a change to it installs again.
$(STAMP): pyproject.toml requirements.lock hatch_build.py $(SRC)/ingest/_md5rows.c
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# uv resolves the whole tree into requirements.lock (pinned); pyproject keeps lower bounds.
lock:
	$(BIN)/uv pip compile -q pyproject.toml --extra dev -o requirements.lock

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy $(SRC)

check: lint typecheck test

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# make demo DEMO_ARGS="--port 8001 --size 40": any `detainers demo` options.
DEMO_ARGS ?=
demo: $(STAMP)
	$(BIN)/detainers demo $(DEMO_ARGS)

docs: $(STAMP)
	$(BIN)/detainers docs policies --write
	$(BIN)/detainers docs coverage --write
	$(BIN)/python -m detainers.service.openapi_doc --write 2>/dev/null || true

bench: $(STAMP)
	$(BIN)/python -m bench

screenshots: $(STAMP)
	DETAINERS_SCREENSHOTS=1 $(BIN)/python -m pytest -q -m browser tests/web

# The notices' fonts are vendored subsets (no system font needed to render). Rebuild them from Debian's Noto packages
# only when a test says a template has characters they lack.
notice-fonts: $(STAMP)
	test -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc -a -f /usr/share/fonts/truetype/noto/NotoSans-Regular.ttf \
	  || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-core fonts-noto-cjk)
	$(BIN)/python -m detainers.notices._fontbuild

# docs/notices.md's page images: one rendered page per language (needs poppler-utils' pdftoppm).
notice-pages: $(STAMP)
	command -v pdftoppm >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils)
	$(BIN)/python -m detainers.notices._pages docs/screenshots/notices

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
