#!/usr/bin/env bash
# Builds the .deb with cargo-deb and checks its contents and maintainer scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-deb >/dev/null 2>&1 || cargo install cargo-deb --locked --version 3.8.0
cargo build --release --locked --bin pingshen
cargo deb --no-build --output target/debian/pingshen.deb >/dev/null
deb=target/debian/pingshen.deb
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/pingshen ./lib/systemd/system/pingshen.service ./usr/share/doc/pingshen/config.example.toml; do
  grep -q " $f\$" <<<"$contents" || { echo "FAIL: $f missing from the .deb" >&2; exit 1; }
done
grep -q -- "-rwxr-xr-x .* ./usr/bin/pingshen$" <<<"$contents" || { echo "FAIL: binary not executable" >&2; exit 1; }
tmp=$(mktemp -d)
dpkg-deb -e "$deb" "$tmp/control"
for s in postinst prerm; do [ -x "$tmp/control/$s" ] || { echo "FAIL: $s missing" >&2; exit 1; }; done
grep -q "config --venue" "$tmp/control/postinst" || { echo "FAIL: postinst does not write the venue config" >&2; exit 1; }
dpkg-deb -x "$deb" "$tmp/root"
"$tmp/root/usr/bin/pingshen" --version
grep -q "^ProtectSystem=strict$" "$tmp/root/lib/systemd/system/pingshen.service"
echo "deb: ok ($(stat -c %s "$deb") bytes)"
