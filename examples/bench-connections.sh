#!/usr/bin/env bash
# Connection-layer throughput, plain vs HTTPS, keep-alive vs a new connection per request,
# measured with wrk (apt-get install wrk) against GET /healthz of a demo server.
#
#     cargo build --release && examples/bench-connections.sh [target/release/pingshen …]
#
# Each binary given is measured in turn (e.g. an older build for a before/after table).
set -euo pipefail
bins=("$@")
[ ${#bins[@]} -eq 0 ] && bins=(target/release/pingshen)
conns=${CONNS:-50}
secs=${SECS:-10}
for bin in "${bins[@]}"; do
  for tls in false true; do
    dir=$(mktemp -d)
    printf 'tls = %s\nlog_level = "warn"\nbcrypt_cost = 4\n' "$tls" > "$dir/config.toml"
    "$bin" serve --demo --listen 127.0.0.1:0 --data "$dir/data" --config "$dir/config.toml" > "$dir/out" 2>&1 &
    pid=$!
    for _ in $(seq 100); do grep -q "listening on" "$dir/out" && break; sleep 0.2; done
    addr=$(sed -n 's/^pingshen: listening on //p' "$dir/out")
    scheme=http; [ "$tls" = true ] && scheme=https
    url="$scheme://$addr/healthz"
    ka=$(wrk -t2 -c"$conns" -d"${secs}s" "$url" | awk '/Requests\/sec/ {print $2}')
    nc=$(wrk -t2 -c"$conns" -d"${secs}s" -H "Connection: close" "$url" | awk '/Requests\/sec/ {print $2}')
    printf '%-40s %-5s keep-alive %10s req/s   new connection %10s req/s\n' "$bin" "$scheme" "$ka" "$nc"
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rm -rf "$dir"
  done
done
