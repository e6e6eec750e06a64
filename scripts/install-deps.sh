#!/usr/bin/env bash
# Installs what chatwire's build, tests and demo need, from Debian's packages.
# Idempotent; run as root (or with sudo). Non-interactive.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config   # the build
  libjsmn-dev                        # JSON tokenizer (header only)
  libmbedtls-dev                     # TLS (mbedTLS 2.28 from bookworm)
  libcjson-dev                       # tests: an independent JSON parser
  clang libclang-rt-14-dev           # libFuzzer targets (the runtime is only recommended)
  python3 openssl nginx curl   # local test servers and certificates
  ca-certificates                    # the default trust store, and the MCU trust anchors
  tinyproxy                          # the HTTP CONNECT proxy tests
  liblwip-dev iproute2               # tests/lwip: lwIP 2.1.3 and the test's network namespace
  gcc-arm-none-eabi libnewlib-arm-none-eabi  # the Cortex-M4 firmware
  qemu-system-arm                    # runs it (mps2-an386)
  dnsmasq-base procps                # freertos-run.sh: the firmware's DNS server (the
                                     # program, not the dnsmasq system service), pgrep
  libcurl4-openssl-dev valgrind      # bench/: the libcurl + cJSON baseline
  dpkg-dev                           # scripts/get-deps-src.sh: unpacks source packages
  pkgconf                            # tests/packaging: pkgconf --validate
  python3-kconfiglib python3-pykwalify python3-ruamel.yaml python3-dateutil python3-jsonschema  # tests/manifests
  doxygen                            # the API reference (Doxyfile)
  gcc-xtensa-lx106 picolibc-xtensa-lx106-elf  # other cores: ESP8266 (Xtensa)
  gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf  # ESP32-C3's RV32IMC
  gcc-s390x-linux-gnu libc6-dev-s390x-cross qemu-user  # unit tests, big-endian
  libc6-dev-i386 lib32gcc-12-dev     # and in a 32-bit build (not gcc-multilib:
                                     # it conflicts with the cross compilers)
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
