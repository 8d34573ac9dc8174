#!/usr/bin/env bash
# Installs the TagGateway native binary as a hardened systemd service.
#
# Download-free: it installs a binary you built (dotnet publish ... -r linux-x64)
# or were given, after checking its SHA-256 against the value you were given.
#
#   sudo ./install.sh --binary ./TagGateway --sha256 <64 hex digits>
#   sudo ./install.sh --binary ./TagGateway --sha256-file ./TagGateway.sha256
#
# Options:
#   --binary PATH        the TagGateway executable (required)
#   --sha256 HEX         expected SHA-256 of the binary
#   --sha256-file PATH   file whose first field is the expected SHA-256 (sha256sum format)
#   --root DIR           install into DIR instead of / (packaging, tests); implies --no-start
#   --no-start           install and enable nothing at runtime: skip user creation
#                        when --root is set, and skip systemctl
#   -h, --help
#
# What it does (idempotent; safe to re-run for an upgrade):
#   /usr/local/bin/taggateway                    the binary, 0755 root:root (atomic replace)
#   /etc/systemd/system/taggateway.service       the unit from this folder
#   /etc/taggateway/taggateway.env               configuration, 0640 root:taggateway;
#                                                created once, never overwritten
#   /usr/local/share/doc/taggateway/README.md    this folder's README
#   user and group `taggateway` (system account, no login shell)
#   systemctl daemon-reload; enable; restart (or start) the service
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
binary="" expected="" sha_file="" root="" start=1

die() { echo "install.sh: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --binary) binary="${2:-}"; shift 2 ;;
    --sha256) expected="${2:-}"; shift 2 ;;
    --sha256-file) sha_file="${2:-}"; shift 2 ;;
    --root) root="${2:-}"; start=0; shift 2 ;;
    --no-start) start=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
done

[[ -n "$binary" ]] || die "--binary is required (see --help)"
[[ -f "$binary" ]] || die "no such file: $binary"
if [[ -n "$sha_file" ]]; then
  [[ -z "$expected" ]] || die "give --sha256 or --sha256-file, not both"
  [[ -f "$sha_file" ]] || die "no such file: $sha_file"
  expected="$(awk 'NR==1 {print $1}' "$sha_file")"
fi
[[ -n "$expected" ]] || die "a checksum is required: --sha256 HEX or --sha256-file PATH"
expected="${expected,,}"
[[ "$expected" =~ ^[0-9a-f]{64}$ ]] || die "not a SHA-256 (64 hex digits): $expected"

command -v sha256sum >/dev/null || die "sha256sum not found (coreutils)"
actual="$(sha256sum -- "$binary" | awk '{print $1}')"
if [[ "$actual" != "$expected" ]]; then
  die "checksum mismatch for $binary: expected $expected, got $actual; nothing was installed"
fi
# An ELF executable for this machine, not a script or an archive.
if [[ "$(head -c 4 -- "$binary" | od -An -c | tr -d ' ')" != '177ELF' ]]; then
  die "$binary is not an ELF executable; nothing was installed"
fi

if [[ -z "$root" && $EUID -ne 0 ]]; then
  die "run as root (sudo), or use --root DIR"
fi

dest="${root%/}"
bin_dir="$dest/usr/local/bin"
unit_dir="$dest/etc/systemd/system"
conf_dir="$dest/etc/taggateway"
doc_dir="$dest/usr/local/share/doc/taggateway"

# Service account (only on the real system).
if [[ -z "$root" ]]; then
  if ! getent group taggateway >/dev/null; then
    groupadd --system taggateway
  fi
  if ! getent passwd taggateway >/dev/null; then
    useradd --system --gid taggateway --no-create-home --home-dir /var/lib/taggateway \
      --shell /usr/sbin/nologin --comment "TagGateway" taggateway
  fi
fi

install -d -m 0755 "$bin_dir" "$unit_dir" "$doc_dir"
install -d -m 0750 "$conf_dir"

# Atomic replace: a running service keeps its old inode until it restarts.
tmp="$(mktemp "$bin_dir/.taggateway.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
install -m 0755 -- "$binary" "$tmp"
# Re-check what was written, then move it into place.
[[ "$(sha256sum -- "$tmp" | awk '{print $1}')" == "$expected" ]] || die "copy of the binary is corrupt; nothing was installed"
mv -f -- "$tmp" "$bin_dir/taggateway"
trap - EXIT

install -m 0644 -- "$here/taggateway.service" "$unit_dir/taggateway.service"
install -m 0644 -- "$here/README.md" "$doc_dir/README.md"

if [[ ! -e "$conf_dir/taggateway.env" ]]; then
  install -m 0640 -- "$here/taggateway.env" "$conf_dir/taggateway.env"
  echo "install.sh: created $conf_dir/taggateway.env: set your tag IDs there"
else
  echo "install.sh: kept existing $conf_dir/taggateway.env"
fi
if [[ -z "$root" ]]; then
  chown root:taggateway "$conf_dir" "$conf_dir/taggateway.env"
fi

echo "install.sh: installed $bin_dir/taggateway (sha256 $actual)"

if [[ $start -eq 1 ]]; then
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
    systemctl daemon-reload
    systemctl enable taggateway.service >/dev/null
    systemctl restart taggateway.service
    echo "install.sh: taggateway.service enabled and (re)started; check: systemctl status taggateway"
  else
    echo "install.sh: systemd is not running here; start the service yourself"
  fi
fi
