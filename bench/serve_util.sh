# Sourced by the bench scripts: start_server BIN ARTIFACTS [FLAGS...] starts
# `graphrec serve` on a free loopback port, sets $server (its pid), $port and
# $serve_log, and kills it on exit. Exits 1 with its log if it does not start.
start_server() {
  local bin="$1" artifacts="$2"
  shift 2
  serve_log=$(mktemp)
  "$bin/apps/graphrec" serve --artifacts "$artifacts" --address 127.0.0.1:0 --stats-log-seconds 0 "$@" \
    >"$serve_log" 2>&1 &
  server=$!
  trap 'kill $server 2>/dev/null || true; rm -f "$serve_log"' EXIT
  port=""
  for _ in $(seq 600); do
    port=$(sed -n 's/^graphrec serve: listening on port \([0-9]*\)$/\1/p' "$serve_log")
    [ -n "$port" ] && return 0
    sleep 0.5
  done
  cat "$serve_log"
  exit 1
}
