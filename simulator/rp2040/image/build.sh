#!/bin/sh
# Rebuild the emulated Pico's firmware image from the vendored MicroPython sources and
# check it against the committed one, byte for byte (`make rp2-image`).
#
#   simulator/rp2040/image/build.sh [BUILD_DIR]      (default build/rp2-image)
#
# Needs only Debian packages: gcc-arm-none-eabi libnewlib-arm-none-eabi cmake (and make,
# python3). About 3-5 minutes on 2 cores. picotool is not used (PICO_NO_PICOTOOL=1: the
# SDK would download it), so the result is a flat image for 0x10000000, not a UF2.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-build/rp2-image}
IMAGE=firmware-RPI_PICO-v1.28.0.bin
SOURCES=micropython-v1.28.0-rp2-pruned-src.tar.gz
# The banner and __DATE__ embed the build date: pin it (2026-01-01, the sources' mtime).
export SOURCE_DATE_EPOCH=1767225600

for tool in arm-none-eabi-gcc cmake make python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "rp2-image: $tool not found: apt-get install -y gcc-arm-none-eabi" \
             "libnewlib-arm-none-eabi cmake" >&2
        exit 2
    fi
done
(cd "$HERE" && sha256sum -c --quiet SHA256SUMS)

rm -rf "$OUT"
mkdir -p "$OUT"
# The version comes from `git describe` when the tree is in a git checkout: keep git from
# finding the one this script may sit in, so the banner reads v1.28.0 wherever it builds.
GIT_CEILING_DIRECTORIES=$(cd "$OUT" && pwd)
export GIT_CEILING_DIRECTORIES
echo "rp2-image: unpacking the sources into $OUT"
tar xzf "$HERE/$SOURCES" -C "$OUT"
echo "rp2-image: building mpy-cross (the port freezes asyncio with it)"
make -C "$OUT/micropython/mpy-cross" -j2 >"$OUT/mpy-cross.log" 2>&1 ||
    { tail -20 "$OUT/mpy-cross.log"; exit 1; }
echo "rp2-image: building ports/rp2 BOARD=RPI_PICO (log: $OUT/rp2.log)"
CMAKE_ARGS=-DPICO_NO_PICOTOOL=1 make -C "$OUT/micropython/ports/rp2" BOARD=RPI_PICO -j2 \
    >"$OUT/rp2.log" 2>&1 || { tail -20 "$OUT/rp2.log"; exit 1; }
BUILT="$OUT/micropython/ports/rp2/build-RPI_PICO/firmware.bin"
cp "$BUILT" "$OUT/$IMAGE"
if cmp -s "$OUT/$IMAGE" "$HERE/$IMAGE"; then
    echo "rp2-image: $OUT/$IMAGE is identical to simulator/rp2040/image/$IMAGE"
else
    echo "rp2-image: $OUT/$IMAGE differs from the committed image:" >&2
    sha256sum "$OUT/$IMAGE" "$HERE/$IMAGE" >&2
    exit 1
fi
