#!/usr/bin/env bash
# Installs the Debian packages Vigil needs. Idempotent: runs `apt-get update` and
# `apt-get install` only when something is missing. This script is the one source
# of truth for system packages (make run, make test and make bench all call it).
#
# Usage: scripts/install-deps.sh [build|test|bench]...   (default: build)
set -euo pipefail

build_pkgs=(
  build-essential cmake ccache pkg-config git
  libboost-dev                      # Boost.Beast / Asio (HTTP server)
  rapidjson-dev                     # JSON on the hot path
  libyaml-cpp-dev                   # config.yaml
  libcli11-dev                      # CLI
  prometheus-cpp-dev                # /metrics
  libsqlite3-dev                    # embedded store (lifecycle issue)
  libssl-dev ca-certificates        # SHA-256; TLS to Slack / PagerDuty (system CAs)
  tzdata                            # on-call schedules in their time zones (zoneinfo)
  libgoogle-perftools-dev           # tcmalloc-minimal
  libtorch-dev libopenblas0-openmp  # TorchScript backend
  libxgboost-dev                    # XGBoost backend
  python3-torch python3-sklearn python3-xgboost python3-numpy  # example models
)
test_pkgs=(
  libgtest-dev libgmock-dev
  python3-pytest
  python3-scipy                     # drift statistics: test vectors and offline checks
  prometheus                        # promtool
)
bench_pkgs=(
  wrk nginx python3-fastapi python3-uvicorn libbenchmark-dev
)

groups=("$@")
[ ${#groups[@]} -eq 0 ] && groups=(build)

wanted=()
for g in "${groups[@]}"; do
  case "$g" in
    build) wanted+=("${build_pkgs[@]}") ;;
    test) wanted+=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
    bench) wanted+=("${build_pkgs[@]}" "${bench_pkgs[@]}") ;;
    *) echo "install-deps: unknown group '$g' (expected build, test or bench)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# de-duplicate
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u | sed '/^$/d')

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
