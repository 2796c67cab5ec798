#!/usr/bin/env bash
# Connection-layer throughput, plain vs HTTPS, keep-alive vs a new connection per request,
# measured with wrk (apt-get install wrk) against GET /healthz of a demo server, and against
# the floor: examples/bare_tls.rs, the same crates with nothing else (built if missing).
#
#     cargo build --release && examples/bench-connections.sh [target/release/pingshen …]
#
# Each binary given is measured in turn (e.g. an older build for a before/after table).
set -euo pipefail
bins=("$@")
[ ${#bins[@]} -eq 0 ] && bins=(target/release/pingshen)
conns=${CONNS:-50}
secs=${SECS:-10}
bare=target/release/examples/bare_tls
[ -x "$bare" ] || cargo build --release --example bare_tls >/dev/null 2>&1

measure() { # label scheme addr
  local url="$2://$3/healthz" ka nc
  ka=$(wrk -t2 -c"$conns" -d"${secs}s" "$url" | awk '/Requests\/sec/ {print $2}')
  nc=$(wrk -t2 -c"$conns" -d"${secs}s" -H "Connection: close" "$url" | awk '/Requests\/sec/ {print $2}')
  printf '%-40s %-5s keep-alive %10s req/s   new connection %10s req/s\n' "$1" "$2" "$ka" "$nc"
}

for bin in "${bins[@]}"; do
  for tls in false true; do
    dir=$(mktemp -d)
    printf 'tls = %s\nlog_level = "warn"\nbcrypt_cost = 4\n' "$tls" > "$dir/config.toml"
    "$bin" serve --demo --listen 127.0.0.1:0 --data "$dir/data" --config "$dir/config.toml" > "$dir/out" 2>&1 &
    pid=$!
    for _ in $(seq 100); do grep -q "listening on" "$dir/out" && break; sleep 0.2; done
    scheme=http; [ "$tls" = true ] && scheme=https
    measure "$bin" "$scheme" "$(sed -n 's/^pingshen: listening on //p' "$dir/out")"
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rm -rf "$dir"
  done
done
for flag in --plain ""; do
  out=$(mktemp)
  # shellcheck disable=SC2086
  "$bare" $flag > "$out" 2>&1 &
  pid=$!
  for _ in $(seq 50); do grep -q "listening on" "$out" && break; sleep 0.1; done
  scheme=https; [ "$flag" = --plain ] && scheme=http
  measure "floor: examples/bare_tls $flag" "$scheme" "$(sed -n 's/^bare: listening on //p' "$out")"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -f "$out"
done
