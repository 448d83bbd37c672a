// The face: drawn for massager, one half in coordinates (the viewer's left, x < 200) and
// mirrored for the other. Seen as in a mirror: the person's left side is on the left.
// Each zone of the routine format has a shape, its acupressure points and the stroke for
// each direction; a direction without a drawn stroke gets a generic one at the zone.
const NS = "http://www.w3.org/2000/svg";
const W = 400;

const OUTLINE = "M200,46 C138,46 84,86 77,160 C72,206 71,244 79,288 C87,332 106,362 132,386 " +
  "C154,405 178,414 200,415";
const NECK = "M138,392 L134,520 L200,520 L200,410 Z";
const FEATURES = [
  ["hair", "M200,44 C136,44 82,86 76,162 C84,128 104,100 136,92 C160,86 184,88 200,94 Z"],
  ["line", "M76,204 C60,194 47,210 51,236 C55,262 62,284 82,290"],  // ear
  ["line", "M66,222 C60,236 62,252 70,262"],
  ["line", "M138,392 L134,520"],  // neck
  ["line", "M110,178 Q140,162 174,175"],  // brow
  ["line", "M116,207 Q142,191 168,206 Q142,219 116,207 Z"],  // eye
  ["iris", "M142,199 a7,7 0 1,0 0.1,0 Z"],
  ["line", "M186,206 C184,240 176,270 172,290"],  // nose side
  ["line", "M172,290 C164,298 170,310 184,309 C190,308 195,312 200,312"],  // nostril
  ["line", "M158,346 Q176,334 190,337 Q196,338 200,341"],  // upper lip
  ["line", "M158,346 Q180,352 200,352"],
  ["line", "M160,348 Q178,368 200,369"],  // lower lip
];

export const ZONES = {
  forehead: {
    shape: "M200,72 C160,72 116,92 100,150 C130,160 170,163 200,163 Z",
    anchor: [150, 128], points: [[200, 182], [94, 170]],
    strokes: { outward: "M194,124 C164,116 132,120 104,142", up: "M150,158 L150,92" },
  },
  eyes: {
    shape: "M104,206 C104,176 178,170 182,204 C182,236 106,240 104,206 Z",
    anchor: [142, 206], points: [[172, 199], [142, 227], [112, 207], [142, 181]],
    strokes: { around: "M172,196 C164,234 118,236 110,208 C108,182 150,170 170,188" },
  },
  nose: {
    shape: "M195,198 L184,198 L168,292 L196,296 Z",
    anchor: [186, 250], points: [[190, 204]],
    strokes: { along: "M181,292 L189,208", up: "M181,292 L189,208" },
  },
  nostrils: {
    shape: "M164,300 a18,15 0 1,0 36,0 a18,15 0 1,0 -36,0 Z",
    anchor: [180, 300], points: [[166, 302]],
    strokes: { around: "M166,290 C150,300 160,322 182,318 C196,316 198,300 188,292" },
  },
  cheekbone: {
    shape: "M176,236 C140,232 104,230 78,240 L80,262 C110,254 144,256 172,260 Z",
    anchor: [128, 248], points: [[142, 250]],
    strokes: { outward: "M174,248 C146,244 110,244 78,264" },
  },
  cheek: {
    shape: "M170,264 C140,262 104,264 84,270 C88,300 98,328 116,344 C134,338 150,326 158,316 Z",
    anchor: [126, 298], points: [],
    strokes: { up: "M132,336 L124,274", "up-outward": "M158,318 L98,272",
      outward: "M160,296 L94,290" },
  },
  "upper-lip": {
    shape: "M200,318 C184,318 160,326 152,344 L200,340 Z",
    anchor: [180, 330], points: [[156, 346]],
    strokes: { "up-outward": "M196,330 C176,326 160,302 140,266 C120,252 96,256 78,278" },
  },
  "lower-lip": {
    shape: "M200,356 C182,356 164,354 154,350 L160,374 C176,380 190,380 200,380 Z",
    anchor: [180, 366], points: [[156, 346]],
    strokes: { up: "M196,370 C170,374 128,350 80,292" },
  },
  chin: {
    shape: "M200,380 C180,380 160,384 148,392 C166,408 186,414 200,415 Z",
    anchor: [182, 398], points: [[200, 390]],
    strokes: { up: "M186,412 C186,402 188,394 192,384" },
  },
  jaw: {
    shape: "M150,402 C124,382 98,350 84,300 L98,296 C110,338 134,368 162,390 Z",
    anchor: [118, 352], points: [[112, 352]],
    strokes: { up: "M190,410 C150,398 112,362 88,292" },
  },
  ear: {
    shape: "M77,202 C60,192 45,210 49,236 C53,262 60,286 84,292 Z",
    anchor: [64, 246], points: [[68, 282]],
    strokes: { around: "M80,206 C56,196 46,224 52,248 C56,268 64,284 80,290" },
  },
  neck: {
    shape: "M138,396 L134,520 L200,520 L200,418 C180,416 158,408 138,396 Z",
    anchor: [168, 470], points: [],
    strokes: { up: "M168,512 L168,428" },
  },
  face: {
    shape: OUTLINE + " L200,46 Z",
    anchor: [140, 260], points: [],
    strokes: {},
  },
};

// A stroke for a direction the zone has no drawing for: centred on the zone's anchor.
// Outward is away from the midline, which is towards smaller x on this half.
function genericStroke(direction, [x, y]) {
  switch (direction) {
    case "outward": return `M${x + 24},${y} L${x - 24},${y}`;
    case "up-outward": return `M${x + 18},${y + 18} L${x - 18},${y - 18}`;
    case "around": return `M${x + 14},${y} a14,14 0 1,1 -0.1,-4`;
    default: return `M${x},${y + 24} L${x},${y - 24}`;  // up, along
  }
}

function el(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

export class Face {
  constructor(svg) {
    this.svg = svg;
    const defs = el("defs", {}, svg);
    const marker = el("marker", { id: "arrowhead", viewBox: "0 0 10 10", refX: "6", refY: "5",
      markerWidth: "4.5", markerHeight: "4.5", orient: "auto-start-reverse" }, defs);
    el("path", { d: "M0,0 L10,5 L0,10 Z", class: "arrowhead" }, marker);
    // Both halves, the right one mirrored: the same drawing, the same zones.
    this.sides = {};
    for (const side of ["left", "right"]) {
      const g = el("g", { class: "half " + side }, svg);
      if (side === "right") g.setAttribute("transform", `translate(${W},0) scale(-1,1)`);
      el("path", { d: NECK, class: "skin" }, g);
      el("path", { d: OUTLINE + " L200,46 Z", class: "skin" }, g);
      const zones = {};
      for (const [name, z] of Object.entries(ZONES)) {
        zones[name] = el("path", { d: z.shape, class: "zone", "data-zone": name }, g);
      }
      el("path", { d: OUTLINE, class: "outline" }, g);
      for (const [kind, d] of FEATURES) el("path", { d, class: "feature " + kind }, g);
      const points = {};
      for (const [name, z] of Object.entries(ZONES)) {
        points[name] = z.points.map(([cx, cy]) =>
          el("circle", { cx, cy, r: 3.2, class: "point", "data-zone": name }, g));
      }
      const stroke = el("path", { d: "", class: "stroke", "marker-end": "url(#arrowhead)" }, g);
      const finger = el("circle", { r: 7, class: "finger" }, g);
      const ring = el("circle", { r: 8, class: "press-ring" }, g);
      const pulse = el("circle", { r: 14, class: "pulse" }, g);
      this.sides[side] = { g, zones, points, stroke, finger, ring, pulse };
    }
    this.zone = null;
    this.shown = "";
  }

  // session: the page's status.session (or null); progress: 0..1 through the stroke, or
  // null; pressing: an acupressure pulse is on now.
  show(session, progress, pressing) {
    const key = session ? [session.zone, session.direction, session.side].join() : "";
    if (key !== this.shown) {
      this.shown = key;
      this.presses = 0;
      this.svg.classList.toggle("active", !!session);
      for (const [side, s] of Object.entries(this.sides)) {
        const on = !!session && (session.side === "both" || session.side === side);
        s.g.classList.toggle("lit", on);
        for (const [name, path] of Object.entries(s.zones)) {
          path.classList.toggle("current", on && name === session.zone);
        }
        for (const [name, dots] of Object.entries(s.points)) {
          for (const d of dots) d.classList.toggle("current", on && name === session.zone);
        }
        if (on) {
          const z = ZONES[session.zone] || ZONES.face;
          s.stroke.setAttribute("d", z.strokes[session.direction] ||
            genericStroke(session.direction, z.anchor));
          s.length = s.stroke.getTotalLength();
        }
        s.on = on;
        for (const a of s.pulse.getAnimations()) a.cancel();  // a press of the last zone
      }
    }
    for (const s of Object.values(this.sides)) {
      s.ring.style.display = s.on && pressing ? "" : "none";
      if (!s.on || progress === null) {
        s.finger.style.display = "none";
        continue;
      }
      const p = s.stroke.getPointAtLength(s.length * Math.min(1, Math.max(0, progress)));
      s.finger.style.display = "";
      s.finger.setAttribute("cx", p.x.toFixed(1));
      s.finger.setAttribute("cy", p.y.toFixed(1));
    }
  }

  // One acupressure pulse: at the zone's points in turn, or under the finger.
  press(session, ms) {
    if (!session) return;
    const z = ZONES[session.zone] || ZONES.face;
    const k = this.presses++;
    for (const s of Object.values(this.sides)) {
      if (!s.on) continue;
      let x, y;
      if (z.points.length) {
        [x, y] = z.points[k % z.points.length];
      } else {
        x = s.finger.getAttribute("cx") || z.anchor[0];
        y = s.finger.getAttribute("cy") || z.anchor[1];
      }
      for (const c of [s.pulse, s.ring]) {
        c.setAttribute("cx", x);
        c.setAttribute("cy", y);
      }
      s.pulse.animate([{ opacity: 0.95, transform: "scale(0.3)" },
        { opacity: 0, transform: "scale(1.5)" }], { duration: ms, easing: "ease-out" });
    }
  }

  // A new stroke starts: the presses count from its first point again.
  stroke() {
    this.presses = 0;
  }
}
