# Shared by scripts/demo and scripts/test: install what a fresh Debian 12 machine with the
# Swift toolchain lacks, then build. Safe to run again: it installs only what is missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

APT_PACKAGES=(pkg-config libgpiod-dev libmodbus-dev libsqlite3-dev openssl python3-venv chromium)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

ensure_system_packages() {
    local missing=()
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "==> installing system packages: ${missing[*]}"
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

# Python packages for the tests that talk to peers we did not write (pymodbus, ocpp) and
# for the browser test (playwright driving Debian's chromium; no browser download).
ensure_python_venv() {
    local venv="$ROOT/.venv"
    local stamp="$venv/.requirements-installed"
    if [ ! -x "$venv/bin/python" ]; then
        echo "==> creating Python venv in .venv"
        python3 -m venv "$venv"
    fi
    if [ ! -f "$stamp" ] || ! cmp -s "$ROOT/Tests/Interop/requirements.txt" "$stamp"; then
        echo "==> installing Python test packages"
        "$venv/bin/pip" install -q --disable-pip-version-check -r "$ROOT/Tests/Interop/requirements.txt"
        cp "$ROOT/Tests/Interop/requirements.txt" "$stamp"
    fi
    export PATH="$venv/bin:$PATH"
}

swift_build() {
    echo "==> swift build $*"
    swift build "$@"
}
