#!/usr/bin/env bash
# One entry point for every mode, inside the container or outside it (run from the project):
#   MODE=vsc   (default) keep the container up for VS Code / Codespaces, Prometheus running
#   MODE=api   the prediction server is the main process, Prometheus beside it
#   MODE=train run the pipeline once and exit with its exit code (scheduled retraining)
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
  sed -e "s|__SCRAPE_INTERVAL__|${PROMETHEUS_SCRAPE_INTERVAL:-5s}|" -e "s|__TARGET__|127.0.0.1:$port|" -e "s|__GIT_BRANCH__|${GIT_BRANCH:-unknown}|" -e "s|__GIT_HEAD__|${GIT_HEAD:-unknown}|" "$here/prometheus.yml" > "$dir/prometheus.yml"
  if [ -n "$auth" ]; then printf '%s\n' "$auth" >> "$dir/prometheus.yml"; fi
  prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --web.listen-address="${PROMETHEUS_HOST:-127.0.0.1}:$prom_port" --log.level=warn &
  pids+=($!)
}

case "$mode" in
  train)
    exec "$node" "$app/bin/mlops.js" train "$@"
    ;;
  api)
    start_prometheus
    "$node" "$app/dist/server.js" "$@" &
    server=$!
    pids+=("$server")
    set +e
    wait "$server"
    code=$?
    set -e
    stop
    exit "$code"
    ;;
  vsc)
    start_prometheus
    echo "entrypoint: MODE=vsc, container kept up (start the server from VS Code or with npm start)"
    sleep infinity &
    pids+=($!)
    wait
    ;;
  *)
    echo "entrypoint: unknown MODE '$mode' (vsc, api or train)" >&2
    exit 2
    ;;
esac
