# Sourced by scripts/*: builds the project's environments from the lock files.
# Only Python 3.11+ is assumed; uv (pinned) is installed into .tools/ first.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
UV_VERSION="0.13.9"
TOOLS="$ROOT/.tools"
UV="$TOOLS/bin/uv"
export UV_PROJECT_ENVIRONMENT="$ROOT/.venv"
# uv verifies TLS with the system's trust store (a proxy's own certificate authority included);
# UV_SYSTEM_CERTS is the name uv 0.13 reads (UV_NATIVE_TLS, the older one, makes it warn).
export UV_SYSTEM_CERTS="${UV_SYSTEM_CERTS:-1}"

# answer_help "$@": when an argument (before any `--`) is -h or --help, print the calling
# script's opening comment as its usage and exit, before anything is installed or started.
answer_help() {
    local arg
    for arg in "$@"; do
        case "$arg" in
        --) return 0 ;;
        -h | --help)
            sed -n '2,/^[^#]/p' "$0" | grep -E '^#' | grep -v '^# shellcheck' | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        esac
    done
}

PREPARING_SAID=""
# One line on stderr before the first slow step of a run: installing uv or the packages.
preparing() {
    if [ -z "$PREPARING_SAID" ]; then
        echo "catalog-api: preparing the environment ($1) ..." >&2
        PREPARING_SAID=1
    fi
}

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            # The interpreter itself, not a launcher in front of it (pyenv's shims): uv compares
            # this path with the one .venv was made from and replaces .venv when they differ,
            # which would pull the packages from under every other run in progress.
            "$candidate" -c 'import sys; print(getattr(sys, "_base_executable", sys.executable))'
            return 0
        fi
    done
    echo "catalog-api needs Python 3.11 or newer on PATH" >&2
    return 1
}

ensure_uv() {
    if [ ! -x "$UV" ] || [ "$("$UV" --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
        local python
        preparing "first run: uv, then the packages of uv.lock; a minute or two"
        python="$(find_python)"
        "$python" -m venv "$TOOLS"
        # pip trusts the system's certificate authorities where the system keeps them in one file.
        local cert=()
        if [ -z "${PIP_CERT:-}" ] && [ -r /etc/ssl/certs/ca-certificates.crt ]; then
            cert=(--cert /etc/ssl/certs/ca-certificates.crt)
        fi
        "$TOOLS/bin/pip" install --quiet --disable-pip-version-check "${cert[@]}" "uv==$UV_VERSION"
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
    local stamp="$ROOT/.venv/.uv-lock.sha256" want
    want="$(sha256sum "$ROOT/uv.lock" | cut -d' ' -f1) ${groups[*]}"
    if [ ! -d "$ROOT/.venv" ]; then
        preparing "first run: the packages of uv.lock into .venv; a minute or two"
    elif [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        preparing "uv.lock or the package groups changed: updating .venv"
    fi
    "$UV" sync --quiet --frozen --python "$(find_python)" "${groups[@]}"
    echo "$want" >"$stamp"
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
        preparing "first run of the code generator, or its lock changed: .venv-codegen"
        "$UV" venv --quiet --python "$(find_python)" "$env"
        VIRTUAL_ENV="$env" "$UV" pip sync --quiet --require-hashes "$lock"
        echo "$want" >"$stamp"
    fi
}
