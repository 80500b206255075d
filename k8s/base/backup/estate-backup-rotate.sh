#!/usr/bin/env bash
# Keeps the newest KEEP complete backups under ROOT (folders named by their UTC
# start time, as the estate-backup CronJob makes them) and removes the rest,
# along with interrupted runs (no manifest.txt) other than the newest folder,
# which may be a backup in progress:
#   estate-backup-rotate.sh ROOT KEEP
set -euo pipefail
root="${1:?usage: estate-backup-rotate.sh ROOT KEEP}"
keep="${2:?usage: estate-backup-rotate.sh ROOT KEEP}"
[[ "$keep" =~ ^[1-9][0-9]*$ ]] || { echo "estate-backup-rotate: KEEP must be at least 1, got '$keep'" >&2; exit 2; }
mapfile -t dirs < <(find "$root" -mindepth 1 -maxdepth 1 -type d | sort -r)
complete=0
for i in "${!dirs[@]}"; do
  d="${dirs[$i]}"
  if [ -f "$d/manifest.txt" ]; then
    complete=$((complete + 1))
    [ "$complete" -le "$keep" ] && continue
  elif [ "$i" -eq 0 ]; then
    continue
  fi
  rm -rf "$d"
  echo "estate-backup-rotate: removed $d" >&2
done
