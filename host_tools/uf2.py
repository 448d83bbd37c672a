# `massager uf2`: one file that installs everything on an RP2040 board by drag and drop.
#
# The file holds the stock MicroPython rp2 image the project pins (the one the emulated
# RP2040 runs) and a littlefs image of the filesystem that image mounts, with exactly what
# `massager flash` installs (the .mpy build, its manifest, /board.json): the built-in
# routines are modules of that build. A `flash` on such a board then copies nothing.
#
# Where and how the port mounts its filesystem (MicroPython v1.28.0 sources, the tarball
# in simulator/rp2040/image/):
# - ports/rp2/rp2_flash.c: the storage is the top MICROPY_HW_FLASH_STORAGE_BYTES of the
#   flash (MICROPY_HW_FLASH_STORAGE_BASE = PICO_FLASH_SIZE_BYTES - that), in blocks of
#   FLASH_SECTOR_SIZE (4096);
# - ports/rp2/boards/RPI_PICO/mpconfigboard.h: MICROPY_HW_FLASH_STORAGE_BYTES 1408 KiB;
#   pico-sdk src/boards/include/boards/pico.h: PICO_FLASH_SIZE_BYTES 2 MiB;
# - ports/rp2/modules/_boot.py: vfs.VfsLfs2(rp2.Flash(), progsize=256), formatting only
#   when that mount fails;
# - extmod/vfs_lfs.c and vfs_lfsx.c: readsize 32 and lookahead 32 by default, cache
#   min(block, 4 x max(read, prog)), block_cycles 100; lib/littlefs/lfs2.h: littlefs 2.11,
#   on-disk version 2.1, name_max 255, file_max 2^31 - 1, attr_max 1022, the defaults a
#   superblock written by littlefs-python 0.19 (littlefs 2.11) records too.
#
# The UF2 format (github.com/microsoft/uf2, README): 512-byte blocks, each with two start
# magics, flags, a target address, 256 bytes of payload, its number, the count, the family
# (RP2040: 0xe48bff56) and an end magic. The RP2040 bootrom writes each block's page and
# leaves the rest of the flash alone (RP2040 datasheet 2.8.4.2): the file carries every
# 4 KiB sector the filesystem uses, whole, so what was on the board's filesystem before is
# no longer reachable (littlefs finds its files from the superblock, blocks 0 and 1).
import hashlib
import json
import os
import struct

from host_tools import flash
from host_tools.device import DeviceError, kb

UF2_MAGIC_START0 = 0x0A324655  # "UF2\n"
UF2_MAGIC_START1 = 0x9E5D5157
UF2_MAGIC_END = 0x0AB16F30
UF2_FLAG_FAMILY = 0x00002000  # the family field holds a family ID
RP2040_FAMILY = 0xE48BFF56
PAGE = 256  # payload per UF2 block: one flash page
XIP_BASE = 0x10000000
FLASH_BYTES = 2 * 1024 * 1024  # PICO_FLASH_SIZE_BYTES
FS_BYTES = 1408 * 1024  # MICROPY_HW_FLASH_STORAGE_BYTES
FS_OFFSET = FLASH_BYTES - FS_BYTES  # MICROPY_HW_FLASH_STORAGE_BASE
BLOCK = 4096  # FLASH_SECTOR_SIZE: the littlefs block and the flash's erase unit
LFS = {"block_size": BLOCK, "block_count": FS_BYTES // BLOCK, "read_size": 32,
       "prog_size": 256, "cache_size": 1024, "lookahead_size": 32, "block_cycles": 100,
       "name_max": 255}
# How this writer lays the files out (not recorded on disk: the port reads any layout).
# No file inlined in its directory, and each directory's log compacted last (compact()):
# every path lookup (each import stats 3 paths, then opens one) reads and checksums its
# directories' logs from the root down, so the shorter they are the faster the power-up.
LAYOUT = {"inline_max": 1}
WARNING = ("dragging it onto a board replaces MicroPython and everything on the board's "
           "filesystem: routines you pushed and the saved intensity level are gone")


def rp2_boards():
    """The boards in boards/ with an RP2040 (the ones a UF2 file is for)."""
    return [b for b in flash.board_names() if flash.board_config(b)[0]["arch"] == "armv6m"]


def files(board):
    """{path on the device: bytes}: what `massager flash --board BOARD` leaves there."""
    config, config_bytes = flash.board_config(board)
    built = flash.build(config["arch"])
    hashes = {p: flash.sha(data) for p, data in built.items()}
    manifest = flash.manifest_text(hashes, flash.firmware_version(), board, via=flash.VIA_UF2)
    return dict(built, **{flash.MANIFEST: manifest.encode(), "/board.json": config_bytes})


def filesystem(contents):
    """The littlefs image (FS_BYTES) the rp2 port mounts, holding `contents`. Written in
    sorted order with no timestamps: the same files give the same bytes."""
    import littlefs

    erases = []  # littlefs erases a metadata block only to compact a log into it (or move it)

    class Counting(littlefs.UserContext):
        def erase(self, cfg, block):
            erases.append(block)
            return super().erase(cfg, block)

    context = Counting(buffsize=FS_BYTES)
    fs = littlefs.LittleFS(context=context, **LFS, **LAYOUT)
    folders = {""}
    for path in sorted(contents):
        folder = path.strip("/").rpartition("/")[0]
        if folder:
            fs.makedirs(folder, exist_ok=True)
            parts = folder.split("/")
            folders.update("/".join(parts[:n]) for n in range(1, len(parts) + 1))
        with fs.open(path.strip("/"), "wb") as f:
            f.write(contents[path])
    for folder in sorted(folders, reverse=True):
        compact(fs, folder, erases)
    image = bytes(context.buffer)
    assert len(image) == FS_BYTES
    return image


def compact(fs, folder, erases):
    """Leave `folder`'s metadata log compacted: its entries in one commit, none of the
    commits that wrote them. littlefs compacts a log when a commit no longer fits its
    block; a temporary file, renamed a few times (one commit each) so that its removal is
    the commit that does not fit, makes the removal the compaction."""
    temp = (folder + "/" if folder else "") + ".compact"
    for renames in range(64):
        name = temp
        with fs.open(name, "wb"):
            pass
        for n in range(renames % 8):
            fs.rename(name, "%s%d" % (temp, n))
            name = "%s%d" % (temp, n)
        before = len(erases)
        fs.remove(name)
        if len(erases) > before:
            return
    raise AssertionError("littlefs never compacted /%s" % folder)


def uf2_blocks(chunks):
    """The UF2 file for [(flash offset, 256 bytes), ...]."""
    out = bytearray()
    for i, (offset, data) in enumerate(chunks):
        assert len(data) == PAGE and offset % PAGE == 0
        out += struct.pack("<8I", UF2_MAGIC_START0, UF2_MAGIC_START1, UF2_FLAG_FAMILY,
                           XIP_BASE + offset, PAGE, i, len(chunks), RP2040_FAMILY)
        out += data + bytes(476 - PAGE) + struct.pack("<I", UF2_MAGIC_END)
    return bytes(out)


def pages(offset, data):
    """[(offset, page)] of `data` at `offset`, the last page padded with 0xff (erased)."""
    data = data + b"\xff" * (-len(data) % PAGE)
    return [(offset + i, data[i:i + PAGE]) for i in range(0, len(data), PAGE)]


def image(board, firmware=None):
    """(UF2 bytes, {path: bytes} on its filesystem) for an RP2040 board."""
    if board not in rp2_boards():
        raise DeviceError("board %s is not an RP2040 board (UF2 files are for: %s); an ESP32 "
                          "installs with esptool and `massager flash`"
                          % (board, ", ".join(rp2_boards())))
    from simulator.pico import FIRMWARE

    with open(firmware or FIRMWARE, "rb") as f:
        micropython = f.read()
    if len(micropython) > FS_OFFSET:
        raise DeviceError("the MicroPython image (%s) runs into the filesystem at 0x%x"
                          % (kb(len(micropython)), FS_OFFSET))
    contents = files(board)
    fs = filesystem(contents)
    chunks = pages(0, micropython)
    for at in range(0, FS_BYTES, BLOCK):
        sector = fs[at:at + BLOCK]
        if sector.count(0xFF) != BLOCK:  # a block littlefs uses: all of it
            chunks += pages(FS_OFFSET + at, sector)
    return uf2_blocks(chunks), contents


def read(data):
    """[(flash offset, payload)] of a UF2 file for the RP2040; ValueError on anything else
    (a check of the format, as the bootrom does it)."""
    if len(data) % 512 or not data:
        raise ValueError("not a UF2 file: %d bytes is not a whole number of 512-byte blocks"
                         % len(data))
    out = []
    for n in range(len(data) // 512):
        block = data[n * 512:(n + 1) * 512]
        m0, m1, flags, addr, size, _, _, family = struct.unpack_from("<8I", block)
        if (m0, m1, struct.unpack_from("<I", block, 508)[0]) != (
                UF2_MAGIC_START0, UF2_MAGIC_START1, UF2_MAGIC_END):
            raise ValueError("block %d: bad magic numbers" % n)
        if not flags & UF2_FLAG_FAMILY or family != RP2040_FAMILY:
            raise ValueError("block %d: not for the RP2040 (family 0x%08x)" % (n, family))
        out.append((addr - XIP_BASE, block[32:32 + size]))
    return out


def main(board, out):
    data, contents = image(board)
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, out)
    manifest = json.loads(contents[flash.MANIFEST])
    return ("%s: MicroPython 1.28.0 and massager %s for %s, %d files on its filesystem "
            "(%s), sha256 %s" % (out, manifest["version"], board, len(contents), kb(len(data)),
                                 hashlib.sha256(data).hexdigest()[:16]))
