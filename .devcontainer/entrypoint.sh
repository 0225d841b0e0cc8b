#!/usr/bin/env bash
# One entry point for every mode, inside the container or outside it (run from the project):
#   MODE=vsc   (default) keep the container up for VS Code / Codespaces, Prometheus running
#   MODE=api   the prediction server is the main process, Prometheus beside it
#   MODE=train run the pipeline once and exit with its exit code (scheduled retraining)
#   MODE=web   VS Code in the browser (code-server) with the extension installed, Prometheus running
# MLOPS_PROMETHEUS=off starts no Prometheus beside the server (Kubernetes: the cluster's Prometheus
# scrapes each pod, and a read-only root has nowhere for it to write).
# SIGTERM stops everything cleanly.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
app="$(dirname "$here")"
cd "$app"
mode="${MODE:-vsc}"
data="${MLOPS_DATA_DIR:-$app/local_data}"
export MLOPS_DATA_DIR="$data"
port="${MLOPS_PORT:-8000}"
prom_port="${PROMETHEUS_PORT:-9090}"
node="${NODE:-node}"
pids=()

stop() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap 'stop; exit 0' TERM INT

start_prometheus() {
  case "${MLOPS_PROMETHEUS:-on}" in
    off) return ;;
    on) ;;
    *) echo "entrypoint: MLOPS_PROMETHEUS must be on or off, not '$MLOPS_PROMETHEUS'" >&2; exit 2 ;;
  esac
  if ! command -v prometheus >/dev/null; then
    echo "entrypoint: prometheus not installed; metrics are still on :$port/metrics" >&2
    return
  fi
  local dir="$data/prometheus"
  mkdir -p "$dir"
  # The scrape config is written here so the server's auth (if set) goes into a password file.
  local auth=""
  if [ -n "${METRICS_USERNAME:-}" ] && [ -n "${METRICS_PASSWORD:-}" ]; then
    umask 077
    printf '%s' "$METRICS_PASSWORD" > "$dir/metrics-password"
    auth="    basic_auth:
      username: ${METRICS_USERNAME}
      password_file: $dir/metrics-password"
  elif [ -n "${METRICS_TOKEN:-}" ]; then
    umask 077
    printf '%s' "$METRICS_TOKEN" > "$dir/metrics-token"
    auth="    authorization:
      credentials_file: $dir/metrics-token"
  fi
  # One target per replica (MLOPS_SCRAPE_TARGETS=host:port,…), else the server in this container.
  local targets="" t
  IFS=',' read -ra list <<< "${MLOPS_SCRAPE_TARGETS:-127.0.0.1:$port}"
  for t in "${list[@]}"; do
    t="${t// /}"
    case "$t" in
      ''|*[!A-Za-z0-9.:_-]*) echo "entrypoint: MLOPS_SCRAPE_TARGETS: '$t' is not host:port" >&2; exit 2 ;;
    esac
    targets="${targets:+$targets, }'$t'"
  done
  sed -e "s|__SCRAPE_INTERVAL__|${PROMETHEUS_SCRAPE_INTERVAL:-5s}|" \
    -e "s|__TARGETS__|$targets|" \
    -e "s|__GIT_BRANCH__|${GIT_BRANCH:-unknown}|" \
    -e "s|__GIT_HEAD__|${GIT_HEAD:-unknown}|" \
    "$here/prometheus.yml" > "$dir/prometheus.yml"
  cp "$here/mlops-alerts.rules.yml" "$dir/mlops-alerts.rules.yml"
  if [ -n "$auth" ]; then printf '%s\n' "$auth" >> "$dir/prometheus.yml"; fi
  prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --web.listen-address="${PROMETHEUS_HOST:-127.0.0.1}:$prom_port" --log.level=warn &
  pids+=($!)
}

# Runs the mode's main process beside Prometheus and exits with its code; SIGTERM stops both.
run_main() {
  "$@" &
  local main=$!
  pids+=("$main")
  set +e
  wait "$main"
  local code=$?
  set -e
  stop
  exit "$code"
}

is_loopback() {
  case "$1" in
    127.*|localhost|::1|\[::1\]) return 0 ;;
    *) return 1 ;;
  esac
}

# MODE=web's password: MLOPS_WEB_PASSWORD, or the content of MLOPS_WEB_PASSWORD_FILE (a mounted
# secret), or MLOPS_WEB_HASHED_PASSWORD (argon2, code-server's own form). code-server takes it from
# PASSWORD / HASHED_PASSWORD, which it removes from its env; the MLOPS_WEB_* variables are unset so
# that nothing started here (Prometheus, the server, pipeline steps) inherits the secret.
web_password() {
  if [ -n "${MLOPS_WEB_PASSWORD_FILE:-}" ]; then
    local file="$MLOPS_WEB_PASSWORD_FILE"
    [ -r "$file" ] || { echo "entrypoint: MLOPS_WEB_PASSWORD_FILE $file is not readable" >&2; exit 2; }
    MLOPS_WEB_PASSWORD="$(cat "$file")"
    [ -n "$MLOPS_WEB_PASSWORD" ] || { echo "entrypoint: MLOPS_WEB_PASSWORD_FILE $file is empty" >&2; exit 2; }
  fi
  web_secret="${MLOPS_WEB_PASSWORD:-}"
  web_hashed="${MLOPS_WEB_HASHED_PASSWORD:-}"
  unset MLOPS_WEB_PASSWORD MLOPS_WEB_PASSWORD_FILE MLOPS_WEB_HASHED_PASSWORD PASSWORD HASHED_PASSWORD
}

# The extension is preinstalled in the image (MLOPS_WEB_EXTENSIONS_DIR); MLOPS_VSIX installs another
# package first (outside a container: dist/mlops.vsix after npm run package). Either way code-server
# must list it before it serves, or the browser would get a workbench without the MLOps view.
web_extension() {
  local listed
  if [ -n "${MLOPS_VSIX:-}" ]; then
    listed="$(code-server "${web_dirs[@]}" --install-extension "$MLOPS_VSIX" --force 2>&1)" \
      && grep -q 'successfully installed' <<<"$listed" || {
      echo "entrypoint: installing $MLOPS_VSIX into code-server failed: $listed" >&2
      exit 1
    }
  fi
  listed="$(code-server "${web_dirs[@]}" --list-extensions --show-versions 2>&1)" || true
  web_ext="$(grep -m1 '^mlops-template\.mlops-template@' <<<"$listed")" || {
    echo "entrypoint: the MLOps extension is not installed in code-server${web_dirs[1]:+ (${web_dirs[1]})};" \
      "set MLOPS_VSIX to its package (npm run package makes dist/mlops.vsix)" >&2
    exit 2
  }
}

case "$mode" in
  train)
    exec "$node" "$app/bin/mlops.js" train "$@"
    ;;
  api)
    start_prometheus
    run_main "$node" "$app/dist/server.js" "$@"
    ;;
  web)
    host="${MLOPS_WEB_HOST:-127.0.0.1}"
    web_port="${MLOPS_WEB_PORT:-8080}"
    web_password
    if [ -z "$web_secret" ] && [ -z "$web_hashed" ] && ! is_loopback "$host"; then
      echo "entrypoint: MODE=web on $host needs MLOPS_WEB_PASSWORD or MLOPS_WEB_PASSWORD_FILE" \
        "(there is no default password; without one, VS Code is served on loopback only)" >&2
      exit 2
    fi
    if [ -n "${MLOPS_VSIX:-}" ] && [ ! -f "$MLOPS_VSIX" ]; then
      echo "entrypoint: no extension package at $MLOPS_VSIX (npm run package makes dist/mlops.vsix)" >&2
      exit 2
    fi
    if ! command -v code-server >/dev/null; then
      echo "entrypoint: MODE=web needs code-server on the PATH (the image has it)" >&2
      exit 2
    fi
    web_dirs=()
    if [ -n "${MLOPS_WEB_EXTENSIONS_DIR:-}" ]; then web_dirs=(--extensions-dir "$MLOPS_WEB_EXTENSIONS_DIR"); fi
    web_extension
    start_prometheus
    if [ -n "$web_secret" ] || [ -n "$web_hashed" ]; then
      echo "entrypoint: MODE=web, VS Code ($web_ext) on http://$host:$web_port behind its password login"
      auth=password
    else
      echo "entrypoint: MODE=web WITHOUT a password (set MLOPS_WEB_PASSWORD or MLOPS_WEB_PASSWORD_FILE):" \
        "no login, so VS Code ($web_ext) is served on loopback only, http://$host:$web_port"
      auth=none
    fi
    # Exported only now, for code-server alone (Prometheus is already running); it drops them itself.
    if [ -n "$web_hashed" ]; then export HASHED_PASSWORD="$web_hashed"; elif [ -n "$web_secret" ]; then export PASSWORD="$web_secret"; fi
    run_main code-server --auth "$auth" --bind-addr "$host:$web_port" "${web_dirs[@]}" \
      --disable-telemetry --disable-update-check "$@" "$app"
    ;;
  vsc)
    start_prometheus
    echo "entrypoint: MODE=vsc, container kept up (start the server from VS Code or with npm start)"
    sleep infinity &
    pids+=($!)
    wait
    ;;
  *)
    echo "entrypoint: unknown MODE '$mode' (vsc, api, train or web)" >&2
    exit 2
    ;;
esac
