#!/usr/bin/env bash
# One entry point for every mode, inside the container or outside it (run from the project):
#   MODE=vsc   (default) keep the container up for VS Code / Codespaces, Prometheus running
#   MODE=api   the prediction server is the main process, Prometheus beside it
#   MODE=train run the pipeline once and exit with its exit code (scheduled retraining)
#   MODE=web   VS Code in the browser (code-server) with the extension installed, Prometheus running
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
  sed -e "s|__SCRAPE_INTERVAL__|${PROMETHEUS_SCRAPE_INTERVAL:-5s}|" \
    -e "s|__TARGET__|127.0.0.1:$port|" \
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

# code-server's own password auth (PASSWORD or HASHED_PASSWORD, which it reads from the env, or
# PASSWORD_FILE, read by the caller); without one, only a loopback address is served, --auth none.
web_auth() {
  if [ -n "${PASSWORD:-}" ] || [ -n "${HASHED_PASSWORD:-}" ]; then
    echo password
  elif is_loopback "$1"; then
    echo none
  else
    echo "entrypoint: MODE=web on $1 needs PASSWORD, PASSWORD_FILE or HASHED_PASSWORD (there is no default password)" >&2
    return 2
  fi
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
    host="${CODE_SERVER_HOST:-127.0.0.1}"
    if [ -n "${PASSWORD_FILE:-}" ]; then
      [ -r "$PASSWORD_FILE" ] || { echo "entrypoint: PASSWORD_FILE $PASSWORD_FILE is not readable" >&2; exit 2; }
      PASSWORD="$(cat "$PASSWORD_FILE")"
      export PASSWORD
    fi
    auth="$(web_auth "$host")" || exit 2
    # The same package devcontainer.json lists for VS Code; a failed install stops here.
    vsix="${MLOPS_VSIX:-$app/mlops.vsix}"
    if [ ! -f "$vsix" ]; then
      echo "entrypoint: no extension package at $vsix (npm run package makes dist/mlops.vsix; set MLOPS_VSIX)" >&2
      exit 2
    fi
    if ! command -v code-server >/dev/null; then
      echo "entrypoint: MODE=web needs code-server on the PATH (the image has it)" >&2
      exit 2
    fi
    installed="$(code-server --install-extension "$vsix" --force 2>&1)" && grep -q 'successfully installed' <<<"$installed" || {
      echo "entrypoint: installing $vsix into code-server failed: $installed" >&2
      exit 1
    }
    echo "entrypoint: MODE=web, $vsix installed; VS Code on http://$host:${CODE_SERVER_PORT:-8080} (auth: $auth)"
    start_prometheus
    run_main code-server --auth "$auth" --bind-addr "$host:${CODE_SERVER_PORT:-8080}" --disable-telemetry --disable-update-check "$@" "$app"
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
