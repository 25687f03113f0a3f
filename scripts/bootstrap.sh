#!/usr/bin/env bash
# Install everything Stratus needs, idempotently: the Debian packages (when missing) and one
# virtualenv per requirements file. Safe on a fresh machine and on one already set up: a
# virtualenv is (re)installed only when its requirements (or a file they include) changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}

# Debian packages: the MQTT broker the emulator runs, and its command-line clients; the browser
# the console's tests drive (Playwright launches /usr/bin/chromium: its own download cannot work).
DEBIAN_PACKAGES=(mosquitto mosquitto-clients chromium)
# Debian's own python3 comes without what `python3 -m venv` needs: python3-venv brings it.
"$PYTHON" -c 'import ensurepip, venv' 2>/dev/null || DEBIAN_PACKAGES+=(python3-venv)

# The locks apt and dpkg hold while they work (unattended-upgrades, another `make deps`): fcntl
# locks, so a lock taken and released at once tells whether one is free.
APT_LOCK_FILES=${APT_LOCK_FILES:-/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock}
APT_LOCK_WAIT=${APT_LOCK_WAIT:-600}

# wait_for_apt [SUDO...]: wait (up to APT_LOCK_WAIT seconds) until no apt or dpkg holds a lock,
# instead of failing with "Could not get lock".
wait_for_apt() {
  local waited=0 file
  for file in $APT_LOCK_FILES; do
    [ -e "$file" ] || continue
    until "$@" "$PYTHON" -c 'import fcntl, sys; fcntl.lockf(open(sys.argv[1], "a"), fcntl.LOCK_EX | fcntl.LOCK_NB)' \
        "$file" 2>/dev/null; do
      [ "$waited" -eq 0 ] && echo "waiting for another apt/dpkg to release $file ..."
      if [ "$waited" -ge "$APT_LOCK_WAIT" ]; then
        echo "error: $file is still locked after ${APT_LOCK_WAIT}s" >&2
        return 1
      fi
      sleep 1
      waited=$((waited + 1))
    done
  done
}

install_debian_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$pkg")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "warning: cannot install ${missing[*]} (no apt-get); install them with your package manager" >&2
    return 0
  fi
  local sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # apt-get itself also waits for the dpkg lock (DPkg::Lock::Timeout); `update` does not
  local apt=("${sudo_cmd[@]}" apt-get -o "DPkg::Lock::Timeout=$APT_LOCK_WAIT")
  wait_for_apt "${sudo_cmd[@]}"
  "${apt[@]}" install -y --no-install-recommends "${missing[@]}" \
    || { wait_for_apt "${sudo_cmd[@]}" && "${apt[@]}" update \
         && "${apt[@]}" install -y --no-install-recommends "${missing[@]}"; }
}

# The requirements file, every file it includes with -r/-c (recursively) and the pyproject.toml of
# every local project it installs with -e (its dependencies), one per line.
requirement_files() {
  local file=$1 dir included project
  echo "$file"
  dir=$(dirname "$file")
  sed -nE 's/^[[:space:]]*-(r|c|-requirement|-constraint)[[:space:]=]+([^[:space:]#]+).*/\2/p' "$file" \
    | while read -r included; do requirement_files "$dir/$included"; done
  sed -nE 's/^[[:space:]]*-(e|-editable)[[:space:]=]+([^[:space:]#]+).*/\2/p' "$file" \
    | while read -r project; do
        [ ! -f "$dir/$project/pyproject.toml" ] || echo "$dir/$project/pyproject.toml"
      done
}

# ensure_venv DIR REQUIREMENTS: DIR is a virtualenv with REQUIREMENTS installed. The digest of
# the requirements (with their includes) is kept in DIR/.requirements.sha256; while it matches,
# nothing runs. pip keeps its usual cache (PIP_CACHE_DIR to move it), so a fresh clone installs
# from cached wheels. A lock makes concurrent runs (several `make` at once) wait for each other.
ensure_venv() {
  local dir=$1 requirements=$2 digest
  digest=$(requirement_files "$requirements" | sort -u | xargs cat | sha256sum | cut -d' ' -f1)
  mkdir -p "$dir"
  (
    flock 9
    if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.requirements.sha256" 2>/dev/null)" = "$digest" ]; then
      exit 0
    fi
    if [ ! -x "$dir/bin/python" ]; then
      echo "creating $dir ($("$PYTHON" --version))"
      "$PYTHON" -m venv "$dir"
      "$dir/bin/python" -m pip install --quiet --upgrade pip
    fi
    echo "installing $requirements into $dir"
    "$dir/bin/python" -m pip install --quiet -r "$requirements"
    echo "$digest" >"$dir/.requirements.sha256"
  ) 9>"$dir/.bootstrap.lock"
}

# sourced for its functions only (tests/infra/test_bootstrap_script.py)
if [ "${BOOTSTRAP_FUNCTIONS_ONLY:-}" = 1 ]; then return 0; fi

install_debian_packages "${DEBIAN_PACKAGES[@]}"

# One virtualenv per distinct requirements file. To add one (say for MLServer), add a line
# `ensure_venv .venv-mlserver requirements-mlserver.txt` (then any post-install step for it) and
# call its tools as .venv-mlserver/bin/... from the Makefile; `.venv*` is git-ignored.
ensure_venv .venv requirements-dev.txt
ensure_venv .venv-mlserver requirements-mlserver.txt  # remote-model tests (tests/support/mlserver.py)

echo "bootstrap complete"
