# The circuit as ngspice sees it: what the motor gets at each duty and cell voltage, what
# a floating pin does to the gate, how well the firmware reads the cell.
#
#     python -m bench.circuit        # rewrites only its own section of docs/benchmarks.md
#
# `make bench` writes the same section. The promises behind these figures are tests
# (tests/test_circuit_spice.py); here are the numbers themselves, per board.
import itertools
import os
import sys

from bench.battery import replace_section
from simulator import circuit
from simulator.circuit import sense, simulate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "docs", "benchmarks.md")
HEADING = "## The circuit (ngspice)"
CELLS = (4.2, 3.7, 3.3)
DUTIES = (0.35, 0.55, 0.75, 0.9)


def section():
    lines = [
        HEADING,
        "",
        "Written by `make bench` (or `python -m bench.circuit`) from each board's netlist "
        "(`massager circuit BOARD --spice`) in ngspice: the motor driver at the board's "
        "PWM frequency, the motor at the speed the average voltage holds; the figures "
        "average 4 ms after 8 ms of settling. Motor: the catalogue's 10 mm 3 V coin ERM "
        "(simulator/circuit/parts.py: start 2.3 V, max operating 3.6 V).",
        "",
    ]
    for name in circuit.board_names():
        c = circuit.load(name)
        motor = c.part("M1").spec
        q = c.part("Q1").spec
        lines += ["### %s" % name, "",
                  "| cell | duty | average across the motor | cell current | drain peak "
                  "(rated %g V) | motor turns |" % q.vds_max,
                  "|---|---|---|---|---|---|"]
        for cell, duty in itertools.product(CELLS, DUTIES):
            r = simulate.pwm(c, cell, duty)
            # Turning: at least a tenth of its rated speed (static friction leaves a
            # still motor creeping at a few rad/s in the model).
            turns = r["speed"] > 0.1 * simulate.motor_constants(motor)["W_RATED"]
            note = ""
            if r["v_motor"] > motor.v_max:
                note = " (over its %g V maximum)" % motor.v_max
            lines.append("| %.1f V | %d %% | %.2f V%s | %.0f mA | %.2f V | %s |" % (
                cell, duty * 100, r["v_motor"], note, r["i_cell"] * 1e3, r["v_drain_max"],
                "yes" if turns else "**no** (under its %g V start)" % motor.v_start))
        g = simulate.floating_gate(c)
        worst = 0
        for corner in ({"divider": d, "reference": ref}
                       for d, ref in itertools.product((-1, 0, 1), repeat=2)):
            for cell, rail, pins in simulate.sense(c, corner, step=0.05):
                s = sense.State(cell, rail, pins, c.mcu.adc_ref, c.mcu.adc_bits)
                mv = sense.firmware_mv(c, s)
                worst = max(worst, 10 ** 6 if mv is None else abs(mv - cell * 1000))
        rail_lo = simulate.sense(c, lo=3.0, hi=3.0)[0][1]
        lines += [
            "",
            "- Motor pin floating (reset, boot, sleep), the chip's worst leakage in: gate "
            "%.3f V settled, %.3f V at the cell's 1 µs edge (threshold %g V at least); "
            "motor current %.2g A." % (g["v_gate_settled"], g["v_gate_edge"], q.vth_min,
                                       g["i_motor_max"]),
            "- Battery sense, 3.0 to 4.2 V, the divider and the reference at their "
            "tolerance corners: the firmware's reading within %d mV of the cell (an ideal "
            "12-bit converter; the ADC's own error comes on top, see docs/hardware.md). The "
            "3.3 V rail at a 3.0 V cell: %.2f V." % (worst, rail_lo),
            "",
        ]
    return lines


def update(path=OUT):
    replace_section(path, HEADING, section())


def main():
    update()
    print("bench: wrote the circuit section of %s" % os.path.relpath(OUT, ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
