#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs what fundguard builds, tests and runs with, from Debian 12
# packages. Run as root (or with sudo). Does nothing for packages already
# installed, so it is cheap to call again.
set -eu
PKGS="build-essential cmake pkg-config python3 zlib1g-dev libjansson-dev \
librdkafka-dev libhiredis-dev libcmocka-dev redis-server kcat valgrind curl \
chromium fonts-wqy-microhei clang libclang-rt-14-dev openssl"
# chromium and a CJK font: the report test renders `fundguard report`'s HTML
# headless (tests/scripts/test_report.sh); clang and its libFuzzer runtime:
# the fuzzing smoke run (tests/fuzz/); openssl: a CA for the TLS example
# (tests/integration/test_security.sh). None is needed to run fundguard.

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
if [ -n "$missing" ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
