#!/usr/bin/env bash
# Peak server memory (VmHWM) for hostile package uploads by the admin: a 500 MiB file that is
# not a package, and a ~600 KB zip whose package.json or material inflates to ~600 MB.
#
#     cargo build --release && examples/bench-upload.sh [target/release/pingshen …]
#
# Each case runs on a fresh server, so each figure is that upload's own peak.
set -euo pipefail
bins=("$@")
[ ${#bins[@]} -eq 0 ] && bins=(target/release/pingshen)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c 500M /dev/urandom > "$work/junk.zip"
python3 - "$work" <<'PY'
import sys, zipfile, json
d = sys.argv[1]
pkg = json.load(open("../shared/spec/example/package.json"))
with zipfile.ZipFile(f"{d}/bomb-package.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    with z.open("package.json", "w", force_zip64=True) as f:
        chunk = b" " * (1 << 20)
        for _ in range(600):
            f.write(chunk)
        f.write(json.dumps(pkg).encode())
pkg["applicants"][0]["materials"] = ["materials/A0001/zeros.pdf"]
with zipfile.ZipFile(f"{d}/bomb-material.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    z.writestr("package.json", json.dumps(pkg))
    with z.open("materials/A0001/zeros.pdf", "w", force_zip64=True) as f:
        chunk = bytes(1 << 20)
        for _ in range(600):
            f.write(chunk)
PY
for bin in "${bins[@]}"; do
  for case in junk.zip bomb-package.zip bomb-material.zip; do
    dir=$(mktemp -d -p "$work")
    printf 'log_level = "warn"\nbcrypt_cost = 4\n' > "$dir/config.toml"
    "$bin" serve --listen 127.0.0.1:0 --data "$dir/data" --config "$dir/config.toml" > "$dir/out" 2>&1 &
    pid=$!
    for _ in $(seq 100); do grep -q "listening on" "$dir/out" && break; sleep 0.2; done
    addr=$(sed -n 's/^pingshen: listening on //p' "$dir/out")
    pw=$(sed -n 's/.*用户名: admin.*密码: *//p' "$dir/out" | head -1)
    jar="$dir/cookies"
    token() { curl -s -b "$jar" -c "$jar" "http://$addr$1" | sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' | head -1; }
    t=$(token /login)
    curl -s -b "$jar" -c "$jar" -o /dev/null --data-urlencode "_csrf=$t" --data-urlencode username=admin \
      --data-urlencode "password=$pw" "http://$addr/login"
    t=$(token /admin/import)
    size=$(stat -c %s "$work/$case")
    start=$(date +%s.%N)
    status=$(curl -s -b "$jar" -o "$dir/answer" -w '%{http_code}' -F "_csrf=$t" -F "package=@$work/$case" \
      "http://$addr/admin/import")
    secs=$(echo "$(date +%s.%N) - $start" | bc)
    hwm=$(awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
    printf '%-32s %-18s %10s bytes  answer %s in %5.1f s   peak RSS %6s MiB\n' "$bin" "$case" "$size" "$status" "$secs" "$hwm"
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
done
