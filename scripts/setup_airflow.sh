#!/usr/bin/env bash
# Airflow lives in its own venv (.venv-airflow): its pins clash with the pipeline's, and the DAG tasks only
# call the longtail CLI of .venv through subprocess, so the two environments share nothing.
# Idempotent: a second run with the same version only prints "up to date".
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AIRFLOW_VERSION="${AIRFLOW_VERSION:-3.3.2}"
VENV="${AIRFLOW_VENV:-$ROOT/.venv-airflow}"
STAMP="$VENV/.airflow-version"
PYTHON="${PYTHON:-python3}"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_ROOT_USER_ACTION=ignore

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$AIRFLOW_VERSION" && -x "$VENV/bin/airflow" ]]; then
  echo "setup_airflow: up to date ($VENV, apache-airflow $AIRFLOW_VERSION)"
  exit 0
fi
echo "setup_airflow: installing apache-airflow==$AIRFLOW_VERSION into $VENV"
[[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV"
# (pip warns about every machine-wide find-links folder that does not exist; hide only those lines)
"$VENV/bin/python" -m pip install -q -U pip 2> >(grep -v "is ignored: it is neither" >&2)
"$VENV/bin/python" -m pip install -q "apache-airflow==$AIRFLOW_VERSION" 2> >(grep -v "is ignored: it is neither" >&2)
"$VENV/bin/airflow" version >/dev/null
echo "$AIRFLOW_VERSION" > "$STAMP"
echo "setup_airflow: done"
