# Shared by the tools/ commands: where things live, the install step, the build.
# Sourced, not run.
set -euo pipefail

ESTATE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ESTATE_BUILD="${ESTATE_BUILD:-$ESTATE_ROOT/build}"
ESTATE_VAR="${ESTATE_VAR:-$ESTATE_ROOT/var}"

# Debian packages the build needs (also the build stage of ../Containerfile,
# which sources this file), and the libraries the built binaries load at run
# time (the Containerfile's runtime stage: ldd of every estate-* binary, plus
# tzdata for site time zones).
ESTATE_BUILD_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libmysqlcppconn-dev prometheus-cpp-dev libspdlog-dev libssl-dev
  libgtest-dev libgmock-dev
  libboost-dev nlohmann-json3-dev golang-github-grpc-ecosystem-grpc-gateway-dev
)
ESTATE_RUNTIME_PACKAGES=(
  libgrpc++1.51 libprotobuf32 libabsl20220623 libmysqlcppconn7v5
  libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0 libspdlog1.10 libssl3 tzdata
)
# Debian packages the build, the tests and the tools need. The install step is
# idempotent: it asks dpkg what is missing and installs only that.
ESTATE_PACKAGES=(
  "${ESTATE_BUILD_PACKAGES[@]}"
  mariadb-server mariadb-client
  python3 python3-grpcio python3-yaml curl wrk nghttp2-client
  tzdata  # site time zones (cleaning schedules)
  clang   # tools/fuzz: libFuzzer and the sanitizers (fuzz/)
)
# Installed without recommends: prometheus is here only for promtool.
ESTATE_PACKAGES_NO_RECOMMENDS=(prometheus)

log() { printf '\033[1m[estate]\033[0m %s\n' "$*" >&2; }

missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

install_missing() {
  local missing norec sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  missing=$(missing_packages "${ESTATE_PACKAGES[@]}")
  norec=$(missing_packages "${ESTATE_PACKAGES_NO_RECOMMENDS[@]}")
  command -v kubectl >/dev/null || norec="$norec kubernetes-client"
  if [ -z "${missing// /}" ] && [ -z "${norec// /}" ]; then
    return 0
  fi
  log "installing missing Debian packages:" $missing $norec
  export DEBIAN_FRONTEND=noninteractive
  # A package manager run without a service manager must not start mariadb as a
  # system service; policy-rc.d denies that where it exists, this makes sure.
  if [ ! -e /usr/sbin/policy-rc.d ] && [ -z "$sudo" ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    ESTATE_REMOVE_POLICY=1
  fi
  $sudo apt-get update -qq
  [ -z "${missing// /}" ] || $sudo apt-get install -y -qq $missing
  [ -z "${norec// /}" ] || $sudo apt-get install -y -qq --no-install-recommends $norec
  if [ "${ESTATE_REMOVE_POLICY:-0}" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
}

build() {
  log "building in $ESTATE_BUILD"
  cmake -S "$ESTATE_ROOT" -B "$ESTATE_BUILD" -G Ninja -DCMAKE_BUILD_TYPE="${ESTATE_BUILD_TYPE:-RelWithDebInfo}" >/dev/null
  cmake --build "$ESTATE_BUILD" -j "$(nproc)"
}

# A TCP port nothing listens on now.
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
