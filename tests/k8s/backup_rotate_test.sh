#!/usr/bin/env bash
# The backup volume's rotation (k8s/base/backup/estate-backup-rotate.sh): an
# operator who asks for 2 backups keeps the newest 2 complete ones, never loses
# the one being written, and loses interrupted leftovers.
#   bash tests/k8s/backup_rotate_test.sh <repo_root>
set -euo pipefail
rotate="$1/k8s/base/backup/estate-backup-rotate.sh"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
complete() { mkdir -p "$root/$1"; echo "sha256 x" >"$root/$1/manifest.txt"; }

complete 20261201T023000Z
complete 20261202T023000Z
mkdir -p "$root/20261202T120000Z"          # interrupted: no manifest
complete 20261203T023000Z
complete 20261204T023000Z
mkdir -p "$root/20261205T023000Z"          # the run in progress
bash "$rotate" "$root" 2 2>/dev/null
have=$(cd "$root" && ls -1 | tr '\n' ' ')
want="20261203T023000Z 20261204T023000Z 20261205T023000Z "
[ "$have" = "$want" ] || fail "kept [$have], want [$want]"
echo "ok - keeps the newest 2 complete backups and the run in progress"

if bash "$rotate" "$root" 0 2>/dev/null; then fail "KEEP=0 was accepted"; fi
[ "$(ls -1 "$root" | wc -l)" = 3 ] || fail "a refused KEEP removed something"
echo "ok - refuses to keep 0 backups and removes nothing"
