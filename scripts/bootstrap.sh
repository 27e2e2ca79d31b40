#!/usr/bin/env bash
# Set up everything napari-dlcflow needs, then run one job.
#
#   bash scripts/bootstrap.sh demo [demo options]   # the built-in example (napari-dlcflow demo)
#   bash scripts/bootstrap.sh test [pytest options] # lint + the full test suite, headless
#                                                   # (2 workers; DLCFLOW_TEST_WORKERS=N for N)
#   bash scripts/bootstrap.sh setup                 # only set up
#
# Needs Python 3.11 and, for the Debian packages of a headless napari, root or sudo (apt).
# Idempotent: a second run re-uses .venv and starts in seconds; it reinstalls only when
# pyproject.toml, requirements/lock.txt or this script changed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
VENV="${DLCFLOW_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3.11}"
JOB="${1:-setup}"
[ $# -gt 0 ] && shift

say() { printf '\033[1m[dlcflow setup]\033[0m %s\n' "$*"; }

# Debian packages: a virtual display (Xvfb), Mesa OpenGL and the xcb libraries Qt needs;
# Slurm and MUNGE for the single-node Slurm the batch tests start (tests/test_cluster_slurm.py).
APT_PACKAGES=(xvfb xauth libgl1 libegl1 libglx-mesa0 libgl1-mesa-dri libdbus-1-3 libfontconfig1
  libxkbcommon-x11-0 libx11-xcb1 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xfixes0 libxcb-xinerama0 libxcb-xkb1 libxcb-cursor0
  slurm-wlm munge)

install_apt() {
  command -v dpkg-query >/dev/null || { say "not Debian/Ubuntu: install Xvfb and Mesa yourself"; return; }
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ! "$PYTHON" -c "import venv, ensurepip" >/dev/null 2>&1; then
    missing+=("python3-venv")
  fi
  [ ${#missing[@]} -eq 0 ] && return
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { say "need root to install: ${missing[*]}"; exit 1; }
    sudo="sudo"
  fi
  say "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

stamp_of() { cat pyproject.toml requirements/lock.txt scripts/bootstrap.sh | sha256sum | cut -c1-16; }

install_venv() {
  command -v "$PYTHON" >/dev/null || { say "$PYTHON not found: install Python 3.11"; exit 1; }
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  local want; want="$(stamp_of)"
  if [ -f "$VENV/.dlcflow-stamp" ] && [ "$(cat "$VENV/.dlcflow-stamp")" = "$want" ]; then
    return
  fi
  local pip=("$VENV/bin/python" -m pip --disable-pip-version-check)
  local log="$VENV/dlcflow-install.log"
  say "installing Python packages (first time: about 5 minutes, 7 GB; log: $log)"
  {
    "${pip[@]}" install --upgrade pip
    # torch first and pinned: an unpinned torch would pull a multi-GB CUDA build of another version.
    "${pip[@]}" install "$(grep -i '^torch==' requirements/lock.txt)" \
      "$(grep -i '^torchvision==' requirements/lock.txt)"
    "${pip[@]}" install -c requirements/lock.txt -e ".[all,test]"
  } >"$log" 2>&1 || { grep -v "^WARNING: Location" "$log" | tail -40; say "install failed"; exit 1; }
  echo "$want" >"$VENV/.dlcflow-stamp"
}

install_apt
install_venv
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"

case "$JOB" in
  setup) say "ready: $VENV" ;;
  demo) exec "$VENV/bin/napari-dlcflow" demo "$@" ;;
  test)
    say "ruff"
    "$VENV/bin/ruff" check .
    # Two worker processes (pytest-xdist): a serial run leaves a core idle while a test waits on
    # a DeepLabCut child. --dist loadgroup keeps the tests of the one shared tiny trained model
    # (xdist_group "trained") on one worker, so it is trained once, in the serial order.
    workers="${DLCFLOW_TEST_WORKERS:-2}"
    say "pytest ($workers workers)"
    exec "$VENV/bin/python" -m pytest -n "$workers" --dist loadgroup "$@"
    ;;
  *) say "unknown job '$JOB' (use demo, test or setup)"; exit 2 ;;
esac
