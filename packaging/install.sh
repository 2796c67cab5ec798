#!/usr/bin/env bash
# Installs pingshen as a service on a bare Linux machine (run as root from the folder that holds
# the `pingshen` binary, this script and pingshen.service):
#
#   sudo ./install.sh            # install, make the signing key, print the admin password, start
#   DESTDIR=/tmp/stage ./install.sh --no-start   # stage the files only (used by the tests)
#
# The admin password is printed here, on the installer's terminal, once — never to the journal.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=${DESTDIR:-}
start=yes
[ "${1:-}" = "--no-start" ] && start=no

bin=${PINGSHEN_BIN:-$here/pingshen}
[ -x "$bin" ] || bin="$here/../target/release/pingshen"
[ -x "$bin" ] || { echo "no pingshen binary next to install.sh" >&2; exit 1; }

install -d "$root/usr/bin" "$root/etc/pingshen" "$root/etc/systemd/system" "$root/var/lib/pingshen"
install -m 0755 "$bin" "$root/usr/bin/pingshen"
install -m 0644 "$here/pingshen.service" "$root/etc/systemd/system/pingshen.service"
if [ ! -f "$root/etc/pingshen/config.toml" ]; then
  # A venue serves HTTPS on 443 and keeps its data in the service's state directory.
  "$bin" config --venue > "$root/etc/pingshen/config.toml"
  chmod 0644 "$root/etc/pingshen/config.toml"
fi
chmod 0700 "$root/var/lib/pingshen"

if [ -n "$root" ]; then
  echo "staged in $root"
  exit 0
fi

id pingshen >/dev/null 2>&1 || useradd --system --home-dir /var/lib/pingshen --shell /usr/sbin/nologin pingshen
chown pingshen:pingshen /var/lib/pingshen
as_service() { runuser -u pingshen -- /usr/bin/pingshen "$@" --config /etc/pingshen/config.toml --data /var/lib/pingshen; }
as_service key --init
echo "Admin account (write it down; it is shown only now):"
as_service accounts --reset-admin
if [ "$start" = yes ]; then
  systemctl daemon-reload
  systemctl enable --now pingshen
  sleep 1
  systemctl --no-pager --lines=5 status pingshen || true
  echo "Check the venue: sudo -u pingshen pingshen doctor --config /etc/pingshen/config.toml --listen 0.0.0.0:8443"
fi
