# Sourced by scripts/*: builds the project's environments from the lock files.
# Only Python 3.11+ is assumed; uv (pinned) is installed into .tools/ first.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
UV_VERSION="0.13.9"
TOOLS="$ROOT/.tools"
UV="$TOOLS/bin/uv"
export UV_PROJECT_ENVIRONMENT="$ROOT/.venv"

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    echo "catalog-api needs Python 3.11 or newer on PATH" >&2
    return 1
}

ensure_uv() {
    if [ ! -x "$UV" ] || [ "$("$UV" --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
        local python
        python="$(find_python)"
        "$python" -m venv "$TOOLS"
        "$TOOLS/bin/pip" install --quiet --disable-pip-version-check "uv==$UV_VERSION"
    fi
}

# ensure_runtime_env [--dev]: the app's environment, exactly as uv.lock says.
ensure_runtime_env() {
    ensure_uv
    # Without --dev: runtime packages only. A venv that has the test tools keeps
    # them (uv's --no-dev removes them even with --inexact, which broke a test
    # run going on while scripts/serve started).
    local groups=(--no-dev)
    if [ "${1:-}" = "--dev" ] || [ -x "$ROOT/.venv/bin/pytest" ]; then groups=(); fi
    "$UV" sync --quiet --frozen --python "$(find_python)" "${groups[@]}"
}

# The code generator lives in its own environment: it pins click<8.2 and an old
# datamodel-code-generator that the runtime must not inherit.
ensure_codegen_env() {
    ensure_uv
    local env="$ROOT/.venv-codegen" lock="$ROOT/scripts/codegen/requirements.lock"
    local stamp="$env/.lock.sha256"
    local want
    want="$(sha256sum "$lock" | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        "$UV" venv --quiet --python "$(find_python)" "$env"
        VIRTUAL_ENV="$env" "$UV" pip sync --quiet --require-hashes "$lock"
        echo "$want" >"$stamp"
    fi
}
