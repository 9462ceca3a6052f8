# Process helpers shared by hack/local-cluster.sh and hack/e2e-dns.sh. The sourcing script defines
# log().

# stop_pidfile PIDFILE NAME [TIMEOUT]: SIGTERM the process in PIDFILE, SIGKILL it after TIMEOUT
# seconds (default 15), and remove PIDFILE.
stop_pidfile() {
  local pidfile=$1 name=$2 timeout=${3:-15} pid i
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 10; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name ($pid) did not stop in ${timeout}s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
}

# wait_for DESCRIPTION TIMEOUT COMMAND...: run COMMAND every 0.1 s until it succeeds, or log and
# fail after TIMEOUT seconds.
wait_for() {
  local what=$1 timeout=$2 i
  shift 2
  for ((i = 0; i < timeout * 10; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  log "timed out after ${timeout}s waiting for $what"
  return 1
}
