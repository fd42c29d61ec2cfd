#!/usr/bin/env bash
# Start or stop the WATS stand-in server on loopback, detached from the caller.
#
#   scripts/standin.sh start PORT STATE_DIR TOKEN_FILE
#   scripts/standin.sh stop  PORT STATE_DIR
#   scripts/standin.sh status PORT STATE_DIR
#
# The token is read from TOKEN_FILE by the server, never passed on a command line.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
action=${1:?start|stop|status}; port=${2:?port}; dir=${3:?state dir}
py=${PYTHON:-python3}
pidfile="$dir/standin.pid"

alive() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

case "$action" in
  start)
    token_file=${4:?token file}
    mkdir -p "$dir"
    if alive; then echo "stand-in already runs on 127.0.0.1:$port (pid $(cat "$pidfile"))"; exit 0; fi
    rm -f "$dir/ready"
    setsid nohup "$py" "$here/tests/standin/wats_standin.py" --bind 127.0.0.1 --port "$port" \
      --token-file "$token_file" --state-dir "$dir" --ready-file "$dir/ready" \
      >"$dir/standin.log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    for _ in $(seq 1 50); do
      [ -f "$dir/ready" ] && { echo "stand-in runs on 127.0.0.1:$port (pid $(cat "$pidfile"))"; exit 0; }
      alive || break
      sleep 0.2
    done
    echo "stand-in did not start; its log:" >&2; cat "$dir/standin.log" >&2; exit 1 ;;
  stop)
    if alive; then kill "$(cat "$pidfile")"; echo "stand-in on port $port stopped"; fi
    rm -f "$pidfile" "$dir/ready" ;;
  status)
    if alive; then echo "running"; else echo "stopped"; exit 3; fi ;;
  *) echo "usage: $0 start|stop|status PORT STATE_DIR [TOKEN_FILE]" >&2; exit 2 ;;
esac
