// A UF2 file written into the flash as the RP2040 bootrom does when a file is dragged onto
// its USB drive (RP2040 datasheet 2.8.4.2; format: github.com/microsoft/uf2): every block
// is checked (magic numbers, the RP2040 family, a target in the flash, a 256-byte page);
// a sector is erased the first time a block lands in it and the page is programmed; the
// rest of the flash is left as it was. Returns the number of blocks written, or throws an
// Error with one line saying which block is wrong (nothing is written then).
const MAGIC_START0 = 0x0a324655;
const MAGIC_START1 = 0x9e5d5157;
const MAGIC_END = 0x0ab16f30;
const FLAG_NOT_MAIN_FLASH = 0x1;
const FLAG_FAMILY = 0x2000;
const RP2040_FAMILY = 0xe48bff56;
const XIP_BASE = 0x10000000;
const PAGE = 256;
const SECTOR = 4096;

export function writeUf2(flash, data) {
  if (!data.length || data.length % 512) {
    throw new Error(`not a UF2 file: ${data.length} bytes is not a whole number of 512-byte blocks`);
  }
  const view = new DataView(data.buffer, data.byteOffset, data.length);
  const writes = [];
  for (let at = 0, n = 0; at < data.length; at += 512, n++) {
    const word = (i) => view.getUint32(at + i * 4, true);
    if (word(0) !== MAGIC_START0 || word(1) !== MAGIC_START1 || view.getUint32(at + 508, true) !== MAGIC_END) {
      throw new Error(`block ${n}: bad magic numbers`);
    }
    const flags = word(2), addr = word(3), size = word(4), family = word(7);
    if (flags & FLAG_NOT_MAIN_FLASH) continue; // the bootrom skips these too
    if (!(flags & FLAG_FAMILY) || family >>> 0 !== RP2040_FAMILY) {
      throw new Error(`block ${n}: not for the RP2040 (family 0x${(family >>> 0).toString(16)})`);
    }
    const offset = addr - XIP_BASE;
    if (size !== PAGE || offset % PAGE || offset < 0 || offset + PAGE > flash.length) {
      throw new Error(`block ${n}: 0x${addr.toString(16)} (${size} bytes) is not a page of the flash`);
    }
    writes.push([offset, data.subarray(at + 32, at + 32 + PAGE)]);
  }
  const erased = new Set();
  for (const [offset, page] of writes) {
    const sector = offset - (offset % SECTOR);
    if (!erased.has(sector)) {
      flash.fill(0xff, sector, sector + SECTOR);
      erased.add(sector);
    }
    flash.set(page, offset);
  }
  return writes.length;
}
