# Sessions remembered: one fixed-size record per session in /history.bin, a ring of SLOTS.
#
# A record is RECORD bytes: the session (routine, level, how long it ran, how it ended, the
# date where the host has set the clock) and a sequence number, closed by a CRC-32 of the
# rest. Record n lives in slot n % SLOTS, so the file never grows past SLOTS * RECORD and a
# new record replaces the oldest. An append writes one slot in place: a power cut in the
# middle leaves that slot with a bad CRC (it is skipped) and every other slot untouched, so
# at most the record being written is lost. The next append takes its sequence number and
# its slot again. Written once a session is over, by the runtime's loop at a wake that
# changes no output (runtime.py _step). The host tools read the file with this same
# module (massager history).
import struct

from massager import const

FILE = "history.bin"
RECORD = const(48)
SLOTS = const(64)  # 64 sessions: more than a month at two a day; 3 KB of flash
VERSION = const(1)
# version, ending, level, flags, seq, year - 2000, month, day, hour, minute, second,
# running s, session s, routine s, name; then the CRC-32 of those 44 bytes.
LAYOUT = "<BBBBIBBBBBBHHH24s"
BODY = const(44)
CLOCK_SET = const(1)  # flags: the date is the host's (the clock was set since power-up)
# The RTC's power-up date: rp2 starts it at 2021-01-01 (ports/rp2/main.c), esp32 at
# 2000-01-01. A later year means a host set it (every massager command does).
CLOCK_SET_AFTER_YEAR = const(2021)
MAX_S = const(65535)

# How a session ended (codes 1..6 in the record; 0 is never written).
DONE = const(1)  # the routine played to its end
STOPPED = const(2)  # a long press
PAUSED_TOO_LONG = const(3)  # safety.PAUSE_STOP_MS in pause
SESSION_CAP = const(4)  # safety.SESSION_CAP_MS, running and paused together
FLAT_CELL = const(5)  # the battery fell below the cut-off
FAULT = const(6)  # continuous run, a stuck button, an exception in the loop
ENDINGS = ("", "done", "stopped", "paused too long", "session cap", "flat cell", "fault")


def _seconds(ms):
    s = (ms + 500) // 1000
    return 0 if s < 0 else (MAX_S if s > MAX_S else s)


def encode(buf, seq, ending, name, level, ran_ms, session_ms, routine_ms, when=None):
    """Fill `buf` (RECORD bytes) with one record. `when` is an RTC datetime tuple
    (year, month, day, weekday, hour, minute, second, ...) or None (no clock)."""
    import binascii

    flags = 0
    y = mo = d = h = mi = s = 0
    if when is not None and when[0] > CLOCK_SET_AFTER_YEAR:
        flags = CLOCK_SET
        y, mo, d, h, mi, s = when[0] - 2000, when[1], when[2], when[4], when[5], when[6]
    struct.pack_into(LAYOUT, buf, 0, VERSION, ending, level, flags, seq, y, mo, d, h, mi,
                     s, _seconds(ran_ms), _seconds(session_ms), _seconds(routine_ms),
                     name.encode()[:24])
    struct.pack_into("<I", buf, BODY, binascii.crc32(memoryview(buf)[:BODY]) & 0xFFFFFFFF)


def decode(data):
    """A dict for one record, or None when its CRC, version or ending is wrong."""
    import binascii

    if len(data) < RECORD:
        return None
    body = bytes(data[:BODY])
    if binascii.crc32(body) & 0xFFFFFFFF != struct.unpack("<I", bytes(data[BODY:RECORD]))[0]:
        return None
    (version, ending, level, flags, seq, y, mo, d, h, mi, s, ran, session, length,
     name) = struct.unpack(LAYOUT, body)
    if version != VERSION or not 0 < ending < len(ENDINGS):
        return None
    when = (2000 + y, mo, d, h, mi, s) if flags & CLOCK_SET else None
    return {"seq": seq, "routine": name.rstrip(b"\0").decode(), "level": level + 1,
            "ending": ENDINGS[ending], "ran_s": ran, "session_s": session,
            "routine_s": length, "when": when}


def parse(data):
    """Every whole record of a history file's bytes, oldest first."""
    found = []
    for at in range(0, len(data) - RECORD + 1, RECORD):
        r = decode(data[at:at + RECORD])
        if r is not None:
            found.append(r)
    found.sort(key=lambda r: r["seq"])
    return found


class History:
    def __init__(self, root="/"):
        self.path = root.rstrip("/") + "/" + FILE
        self.buf = bytearray(RECORD)  # one record, reused: reading and writing
        self._next = None  # the next sequence number, found by the first append

    def _scan(self):
        """The next sequence number: one past the newest whole record."""
        best = -1
        try:
            with open(self.path, "rb") as f:
                for _ in range(SLOTS):
                    if f.readinto(self.buf) != RECORD:
                        break
                    r = decode(self.buf)
                    if r is not None and r["seq"] > best:
                        best = r["seq"]
        except OSError:
            pass
        return best + 1

    def append(self, ending, name, level, ran_ms, session_ms, routine_ms, when=None):
        """Write one record in its slot. Never raises: a full or broken flash must not stop
        the device (the record is then lost, nothing else)."""
        try:
            if self._next is None:
                self._next = self._scan()
            seq = self._next
            encode(self.buf, seq, ending, name, level, ran_ms, session_ms, routine_ms, when)
            at = (seq % SLOTS) * RECORD
            try:
                f = open(self.path, "r+b")
            except OSError:
                f = open(self.path, "wb")
            with f:
                size = f.seek(0, 2)
                if size < at:  # a shorter file than the ring so far (cut, or removed)
                    f.write(bytes(at - size))
                f.seek(at)
                f.write(self.buf)
            self._next = seq + 1
            return True
        except Exception:  # noqa: BLE001 - see above
            return False


def clock():
    """The RTC's date now, or None where there is no RTC."""
    try:
        import machine

        return machine.RTC().datetime()
    except Exception:  # noqa: BLE001 - no RTC on this port or build: no date
        return None
