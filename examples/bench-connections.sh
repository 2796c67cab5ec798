#!/usr/bin/env bash
# Connection-layer throughput, plain vs HTTPS, keep-alive vs a new connection per request,
# measured with wrk (apt-get install wrk) against GET /healthz of a demo server, and against
# the floor: examples/bare_tls.rs, the same crates with nothing else (built if missing).
#
#     cargo build --release && examples/bench-connections.sh [target/release/pingshen …]
#
# Each binary given is measured in turn (e.g. an older build for a before/after table).
# HTTPS is measured twice: with wrk as it comes ("https-openssl": OpenSSL offers
# TLS_AES_256_GCM_SHA384 first, and rustls follows the client's order) and ("https-browser")
# with wrk offering TLS_AES_128_GCM_SHA256 first, as Chrome, Firefox and Safari do: what a
# venue's tablets negotiate.
set -euo pipefail
bins=("$@")
[ ${#bins[@]} -eq 0 ] && bins=(target/release/pingshen)
conns=${CONNS:-50}
secs=${SECS:-10}
bare=target/release/examples/bare_tls
[ -x "$bare" ] || cargo build --release --example bare_tls >/dev/null 2>&1

browser_cnf=$(mktemp)
trap 'rm -f "$browser_cnf"' EXIT
printf '%s\n' 'openssl_conf = openssl_init' '[openssl_init]' 'ssl_conf = ssl_sect' '[ssl_sect]' \
  'system_default = system_default_sect' '[system_default_sect]' \
  'Ciphersuites = TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384' > "$browser_cnf"

measure() { # label scheme addr pid
  local url="$2://$3/healthz"
  if [ "$2" = https ]; then
    run "$1" https-openssl "$url" "$4"
    OPENSSL_CONF=$browser_cnf run "$1" https-browser "$url" "$4"
  else
    run "$1" "$2" "$url" "$4"
  fi
}

# The server's CPU time so far (user + system), in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

run() { # label scheme-label url pid
  local ka nc out before after cpu
  before=$(cpu_ticks "$4")
  out=$(wrk -t2 -c"$conns" -d"${secs}s" "$3")
  after=$(cpu_ticks "$4")
  ka=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  # Server CPU per keep-alive request: wrk shares the cores, so req/s alone mixes in the
  # client's own TLS work; this is the server's part only.
  cpu=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" '/requests in/ {printf "%.1f", t / hz * 1e6 / $1}' <<<"$out")
  nc=$(wrk -t2 -c"$conns" -d"${secs}s" -H "Connection: close" "$3" | awk '/Requests\/sec/ {print $2}')
  printf '%-36s %-14s keep-alive %10s req/s (server %5s µs/req)   new connection %10s req/s\n' \
    "$1" "$2" "$ka" "$cpu" "$nc"
}

for bin in "${bins[@]}"; do
  for tls in false true; do
    dir=$(mktemp -d)
    printf 'tls = %s\nlog_level = "warn"\nbcrypt_cost = 4\n' "$tls" > "$dir/config.toml"
    "$bin" serve --demo --listen 127.0.0.1:0 --data "$dir/data" --config "$dir/config.toml" > "$dir/out" 2>&1 &
    pid=$!
    for _ in $(seq 100); do grep -q "listening on" "$dir/out" && break; sleep 0.2; done
    scheme=http; [ "$tls" = true ] && scheme=https
    measure "$bin" "$scheme" "$(sed -n 's/^pingshen: listening on //p' "$dir/out")" "$pid"
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
  measure "floor: examples/bare_tls $flag" "$scheme" "$(sed -n 's/^bare: listening on //p' "$out")" "$pid"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -f "$out"
done
