"""`massager circuit BOARD`: a board's circuit as text (parts and nets, the bill of
materials, the SPICE netlist) and its checks (the electrical rules, then ngspice)."""

import sys

from simulator import circuit
from simulator.circuit import CircuitError, rules, sense, simulate, spice


def parts_table(c):
    lines = ["%-5s %-26s %-34s %s" % ("ref", "part", "pins: nets", "what")]
    for p in c.parts:
        nets = " ".join("%s:%s" % (pin, "GND" if n == "0" else n) for pin, n in p.nets.items())
        lines.append("%-5s %-26s %-34s %s%s" % (p.ref, p.spec.name, nets, p.what,
                                                 " (on the board)" if p.on_board else ""))
    return "\n".join(lines)


def bom_table(c):
    lines = ["| part | value | what for | qty |", "|---|---|---|---|"]
    lines += ["| %s | %s | %s | %d |" % row for row in c.bom()]
    return "\n".join(lines)


def run_checks(c, out=sys.stdout, err=sys.stderr):
    """The rule checks, then the ngspice checks with their figures. Returns the number of
    problems (0: all promises hold)."""
    problems = rules.check(c)
    for p in problems:
        print("%s: %s" % (c.name, p), file=err)
    print("%s: rule checks: %s" % (c.name, "%d problem(s)" % len(problems) if problems
                                   else "ok"), file=out)
    if not spice.available():
        print("%s: ngspice not found, SPICE checks skipped (Debian: apt-get install ngspice)"
              % c.name, file=err)
        return len(problems) + 1
    q = c.part("Q1").spec
    bad = 0
    for cell in (4.2, 3.3):
        for duty in (0.35, 0.9):
            print("%s: simulating the motor driver at %.1f V, %d %% ..." % (
                c.name, cell, duty * 100), file=err)
            r = simulate.pwm(c, cell, duty)
            ok = r["v_drain_max"] < q.vds_max and r["i_cell"] < 1.0
            bad += not ok
            print("%s: %.1f V cell, %2d %% duty: cell %.0f mA, motor %.2f V average, drain "
                  "peak %.2f V (rated %g V)%s" % (
                      c.name, cell, duty * 100, r["i_cell"] * 1e3, r["v_motor"],
                      r["v_drain_max"], q.vds_max, "" if ok else "  FAIL"), file=out)
    g = simulate.floating_gate(c)
    ok = g["v_gate_settled"] < q.vth_min / 2 and g["i_motor_max"] < 1e-3
    bad += not ok
    print("%s: motor pin floating: gate %.3f V settled, %.3f V at the cell's edge (Vth min "
          "%g V), motor %.2g A%s" % (c.name, g["v_gate_settled"], g["v_gate_edge"],
                                      q.vth_min, g["i_motor_max"], "" if ok else "  FAIL"),
          file=out)
    rows = simulate.sense(c, step=0.1)
    worst = 0
    for cell, rail, pins in rows:
        mv = sense.firmware_mv(c, sense.State(cell, rail, pins, c.mcu.adc_ref, c.mcu.adc_bits))
        worst = max(worst, 10 ** 6 if mv is None else abs(mv - cell * 1000))
    ok = worst <= 50
    bad += not ok
    print("%s: battery sense 3.0-4.2 V: rail %.2f-%.2f V, the firmware reads the cell "
          "within %d mV%s" % (c.name, min(r[1] for r in rows), max(r[1] for r in rows),
                              worst, "" if ok else "  FAIL"), file=out)
    return len(problems) + bad


def main(args):
    """The subcommand; returns the exit code. Raises CircuitError for a user's mistake."""
    names = circuit.board_names() if args.board == "all" else [args.board]
    if args.board != "all" and args.board not in circuit.board_names():
        raise CircuitError("no circuit for board %r (boards: %s)" % (
            args.board, ", ".join(circuit.board_names())))
    code = 0
    for name in names:
        c = circuit.load(name)
        if args.spice:
            sys.stdout.write(spice.netlist(c))
        elif args.bom:
            print(bom_table(c))
        elif args.check:
            code = max(code, 1 if run_checks(c) else 0)
        else:
            print("%s (boards/%s/circuit.py)" % (c.mcu.title, name))
            print(parts_table(c))
    return code
