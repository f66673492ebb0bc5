#!/usr/bin/env bash
# (From the shared single-node Slurm recipe; used by test/slurm and .ci/run.)
# Installs a single-node Slurm (Debian 12: Slurm 22.05) and MUNGE: slurmctld, slurmd, the client
# commands (sbatch, sinfo, squeue, scontrol, scancel) and munged. Root. Idempotent: does nothing
# but print the version when everything is already there.
# --no-install-recommends keeps it to 7 packages, 12 MB installed (34 packages with recommends).
# slurm-wlm is only a meta package over these; it is not needed.
set -euo pipefail
pkgs=(slurmctld slurmd slurm-client munge)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@"; }
  # Refresh the package lists only when they are absent or cannot locate the packages.
  if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then apt_get update -qq; fi
  apt_get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The packages' maintainer scripts may start a system-wide munged/slurmd through init.d (unless a
# policy-rc.d forbids it); the recipe does not rely on or touch those.
# (sinfo --version would fail here: client commands need a slurm.conf even for --version.)
slurmd -V              # "slurm-wlm 22.05.8"
munged --version | head -1
