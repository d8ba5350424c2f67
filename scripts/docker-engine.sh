# Sourced by scripts: makes sure a Docker engine answers on the socket.
# ensure_docker_engine starts dockerd when none answers, and sets CODESYNC_STARTED_DOCKERD=1 so that
# stop_docker_engine_if_started stops only an engine this script started.

docker_engine_answers() {
  docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

ensure_docker_engine() {
  CODESYNC_STARTED_DOCKERD=0
  if docker_engine_answers; then
    return 0
  fi
  if ! command -v dockerd >/dev/null 2>&1; then
    echo "codesync: dockerd is not installed (apt-get install docker.io)" >&2
    return 1
  fi
  echo "codesync: starting dockerd (no bridge network; containers run with --network none)"
  local log=${TMPDIR:-/tmp}/codesync-dockerd.log
  # No bridge, no iptables: sandboxes never get a network, and the host's firewall stays untouched.
  dockerd --bridge=none --iptables=false --ip-masq=false >"$log" 2>&1 &
  CODESYNC_DOCKERD_PID=$!
  CODESYNC_STARTED_DOCKERD=1
  local waited=0
  until docker_engine_answers; do
    if ! kill -0 "$CODESYNC_DOCKERD_PID" 2>/dev/null; then
      echo "codesync: dockerd exited while starting; its log ($log) ends with:" >&2
      tail -n 20 "$log" >&2
      return 1
    fi
    if [ $waited -ge 60 ]; then
      echo "codesync: dockerd did not answer within 60 s; see $log" >&2
      return 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
}

stop_docker_engine_if_started() {
  if [ "${CODESYNC_STARTED_DOCKERD:-0}" = 1 ] && [ -n "${CODESYNC_DOCKERD_PID:-}" ]; then
    kill "$CODESYNC_DOCKERD_PID" 2>/dev/null || true
    wait "$CODESYNC_DOCKERD_PID" 2>/dev/null || true
  fi
}
