#!/usr/bin/env bash
# Builds pingshen as one fully static x86_64 Linux executable (glibc crt-static, static-pie) and
# checks it: `file` says static, `ldd` finds nothing, it runs, and it serves the demo from an
# empty directory. The linker's glibc warnings are printed, never hidden.
#
#   packaging/build-static.sh            # → dist/pingshen + install.sh + unit + example config
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-gnu
# The GNU linker (not rust-lld, which drops glibc's link-time warnings), and show its messages.
export RUSTFLAGS="-C target-feature=+crt-static -C linker-features=-lld -W linker-messages"
# SQLite's extension loader would pull dlopen into the static binary; pingshen loads none.
export LIBSQLITE3_FLAGS="-DSQLITE_OMIT_LOAD_EXTENSION"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/static}
log=$(mktemp)
cargo build --release --locked --target "$target" --bin pingshen 2>&1 | tee "$log"
bin=$(realpath "$CARGO_TARGET_DIR/$target/release/pingshen")

echo "--- glibc static-link warnings (if any) ---"
grep -iE "statically linked applications|requires at runtime the shared libraries" "$log" || echo "(none)"
if grep -q "'dlopen'" "$log"; then
  echo "FAIL: dlopen is linked in (SQLITE_OMIT_LOAD_EXTENSION did not apply)" >&2
  exit 1
fi
echo "--- checks ---"
file "$bin" | tee /dev/stderr | grep -q "static" || { echo "FAIL: not statically linked" >&2; exit 1; }
if ldd "$bin" 2>&1 | grep -q "=>"; then ldd "$bin"; echo "FAIL: ldd finds libraries" >&2; exit 1; fi
"$bin" --version
tmp=$(mktemp -d)
(cd "$tmp" && timeout 15 "$bin" serve --demo --listen 127.0.0.1:18999 >out.txt 2>err.txt &)
ok=no
for _ in $(seq 1 50); do
  if code=$(curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:18999/login 2>/dev/null) && [ "$code" = 200 ]; then ok=yes; break; fi
  sleep 0.2
done
pkill -f "serve --demo --listen 127.0.0.1:18999" || true
[ "$ok" = yes ] || { echo "FAIL: the static binary did not serve the demo" >&2; exit 1; }
echo "serves the demo from an empty directory: ok"
mkdir -p dist
cp "$bin" dist/pingshen
cp packaging/install.sh packaging/pingshen.service dist/
ls -l dist/pingshen
echo "size: $(stat -c %s dist/pingshen) bytes (release profile: LTO, 1 codegen unit, stripped, panic=unwind so a"
echo "panicking request handler is caught by rouille instead of aborting the appliance)"
