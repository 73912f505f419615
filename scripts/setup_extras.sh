#!/usr/bin/env bash
# Extras the test suite needs besides .venv (issue 6): headless Chromium to look at `longtail report` pages,
# and Airflow in its own venv (.venv-airflow) for the DAG tests. Idempotent; apt and pip only.
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DEBIAN_FRONTEND=noninteractive

if ! command -v chromium >/dev/null 2>&1; then
  echo "setup_extras: installing chromium (apt)"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
bash "$ROOT/scripts/setup_airflow.sh"
