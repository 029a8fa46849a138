#!/usr/bin/env bash
# Builds the Debian package: installs what is missing, builds the authsvc target in Release
# (build-package/, through ccache when it is installed) and runs cpack there (the package's
# contents: cmake/Packaging.cmake). Prints the package's path,
# build-package/authsvc_<version>_<arch>.deb; scripts/check-package.sh checks it.
# Usage: scripts/package.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --package
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B build-package -DCMAKE_BUILD_TYPE=Release -DAUTHSVC_TESTS=OFF "${launcher[@]}" \
  >/dev/null
cmake --build build-package -j"$(nproc)" --target authsvc
rm -f build-package/authsvc_*.deb
(cd build-package && cpack -G DEB >cpack.log 2>&1) || { cat build-package/cpack.log >&2; exit 1; }
ls build-package/authsvc_*.deb
