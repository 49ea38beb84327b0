#!/usr/bin/env bash
# Unpacks Debian's Courier POP3 server (courier-pop 1.0.16) into a private folder for the tests, leaving the
# system's packages alone: courier-pop conflicts with dovecot-pop3d (installing one removes the other), and the
# package scripts would start system daemons. dpkg -x only unpacks. test/helpers/courier.ts runs each throw-away
# Courier inside its own mount and PID namespaces, with this tree overlaid on /usr there (docs/recipes/courier.md).
#
# Idempotent: does nothing when the folder already holds the versions apt would download. Needs root and a prior
# `apt-get update`. COURIER_ROOT overrides the folder (the tests read the same variable).
set -euo pipefail

dest="${COURIER_ROOT:-/opt/mail-ingest-courier}"
# The server, its login and TLS helpers, the authentication daemon with its userdb module, and the two libraries
# they need that a Debian 12 with Dovecot lacks. Nothing else from these packages is used.
packages=(courier-pop courier-base courier-authlib courier-authdaemon courier-authlib-userdb libcourier-unicode4 libltdl7)

if [ "$(id -u)" -ne 0 ]; then
  echo "error: $0 must run as root (it creates the 'courier' system user)" >&2
  exit 1
fi

# couriertls drops privileges to the user 'courier', a name compiled into courierpop3login.
id -u courier >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin courier

want=""
pinned=()
for p in "${packages[@]}"; do
  v="$(apt-cache policy "$p" | awk '/Candidate:/ { print $2 }')"
  if [ -z "$v" ] || [ "$v" = "(none)" ]; then
    echo "error: no candidate version of $p (run apt-get update first)" >&2
    exit 1
  fi
  want+="$p=$v"$'\n'
  pinned+=("$p=$v")
done
if [ -f "$dest/.packages" ] && [ "$(cat "$dest/.packages")" = "${want%$'\n'}" ]; then
  echo "Courier already unpacked in $dest:"
  cat "$dest/.packages"
  exit 0
fi

# Libraries the binaries link against from the host, and the tools the test helper runs. Only missing ones are
# installed: naming an installed package to apt-get would upgrade it.
missing=()
for p in libgnutls30 libidn12 libgdbm6 libcrypt1 util-linux mount openssl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then apt-get install -y --no-install-recommends "${missing[@]}"; fi

work="$(mktemp -d /tmp/mi-courier-install.XXXXXX)"
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
mkdir "$work/debs" "$work/tree"
# apt's download sandbox user must be able to write there, or apt falls back to root with a warning.
if id -u _apt >/dev/null 2>&1; then chown _apt "$work/debs"; fi
(cd "$work/debs" && apt-get download "${pinned[@]}")
for deb in "$work"/debs/*.deb; do dpkg -x "$deb" "$work/tree"; done
# Merged /usr: anything a package ships under /lib belongs under /usr/lib, the only part that gets overlaid.
if [ -d "$work/tree/lib" ]; then
  cp -a "$work/tree/lib/." "$work/tree/usr/lib/"
  rm -rf "$work/tree/lib"
fi

for f in usr/lib/courier/courier/courierpop3login usr/lib/courier/courier/courierpop3d usr/sbin/couriertcpd \
  usr/bin/couriertls usr/lib/courier/courier-authlib/authdaemond usr/lib/courier/courier-authlib/makedatprog \
  usr/lib/courier-authlib/libauthuserdb.so.0; do
  if [ ! -e "$work/tree/$f" ]; then
    echo "error: $f missing after unpacking ${packages[*]}" >&2
    exit 1
  fi
done
# The namespaces the helper needs: fail here, with the reason, rather than in every test.
if ! unshare -m -p --fork true; then
  echo "error: cannot create mount and PID namespaces (unshare -m -p); Courier tests cannot run here" >&2
  exit 1
fi

printf '%s' "${want%$'\n'}" > "$work/tree/.packages"
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$work/tree" "$dest"
chmod 755 "$dest"
echo "Courier unpacked in $dest:"
cat "$dest/.packages"
echo
