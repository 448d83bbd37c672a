// Canvas drawings of trace records ({t, motor, led, step, round, cue}): the live motor strip
// chart and the routine's plot (one row per round, as `massager plot` draws it).
const INK = "#33302e";
const GRID = "rgba(51, 48, 46, 0.12)";
const FILL = "rgba(108, 117, 125, 0.45)";

// Match the canvas's pixels to its CSS size; returns the 2D context in CSS pixels.
function fit(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas.clientWidth * ratio));
  const h = Math.max(1, Math.round(canvas.clientHeight * ratio));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, canvas.clientWidth, canvas.clientHeight);
  return ctx;
}

const rgb = (led) => `rgb(${led[0]}, ${led[1]}, ${led[2]})`;

// Motor as a filled step curve and the LED as a band under it, for records in [t0, t1].
// `recs` are in time order; the record in force at t0 may start before it.
function drawSpan(ctx, recs, t0, t1, x, y, w, h, band) {
  const sx = (t) => x + ((t - t0) / (t1 - t0)) * w;
  const sy = (m) => y + h - (m / 100) * h;
  ctx.beginPath();
  ctx.moveTo(x, y + h);
  for (let i = 0; i < recs.length; i++) {
    const a = Math.max(t0, recs[i].t);
    const b = Math.min(t1, i + 1 < recs.length ? recs[i + 1].t : t1);
    if (b < a) continue;
    ctx.lineTo(sx(a), sy(recs[i].motor));
    ctx.lineTo(sx(b), sy(recs[i].motor));
  }
  ctx.lineTo(sx(t1), y + h);
  ctx.closePath();
  ctx.fillStyle = FILL;
  ctx.fill();
  ctx.strokeStyle = INK;
  ctx.lineWidth = 1;
  ctx.stroke();
  for (let i = 0; i < recs.length; i++) {
    const a = Math.max(t0, recs[i].t);
    const b = Math.min(t1, i + 1 < recs.length ? recs[i + 1].t : t1);
    if (b <= a) continue;
    ctx.fillStyle = rgb(recs[i].led);
    ctx.fillRect(sx(a), y + h + 3, Math.max(0.5, sx(b) - sx(a)), band);
  }
}

export class StripChart {
  constructor(canvas) {
    this.canvas = canvas;
    this.recs = [];
  }

  clear() {
    this.recs = [];
  }

  add(rec) {
    this.recs.push(rec);
  }

  // The last `span` ms up to `now`.
  draw(now, span) {
    const ctx = fit(this.canvas);
    const w = this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    const t0 = now - span;
    let first = 0;
    while (first + 1 < this.recs.length && this.recs[first + 1].t <= t0) first++;
    if (first > 2000) {  // forget what scrolled out long ago
      this.recs.splice(0, first);
      first = 0;
    }
    ctx.strokeStyle = GRID;
    for (const m of [0, 50, 100]) {
      const y = 6 + (h - 28) * (1 - m / 100);
      ctx.beginPath();
      ctx.moveTo(28, y);
      ctx.lineTo(w, y);
      ctx.stroke();
      ctx.fillStyle = "rgba(51, 48, 46, 0.6)";
      ctx.font = "10px system-ui, sans-serif";
      ctx.fillText(String(m), 4, y + 3);
    }
    drawSpan(ctx, this.recs.slice(first), t0, now, 28, 6, w - 28, h - 28, 12);
    ctx.fillStyle = "rgba(51, 48, 46, 0.6)";
    ctx.textAlign = "right";
    ctx.fillText(`last ${Math.round(span / 1000)} s`, w - 2, 14);
    ctx.textAlign = "left";
  }
}

export class RoutinePlot {
  constructor(canvas) {
    this.canvas = canvas;
    this.rows = [];
  }

  // records: the trace of one uninterrupted run; steps: [{name}].
  set(records) {
    const rows = [];
    for (const r of records) {
      if (r.round === null) continue;
      if (!rows.length || rows[rows.length - 1].round !== r.round) {
        rows.push({ round: r.round, start: r.t, recs: [] });
      }
      rows[rows.length - 1].recs.push(r);
    }
    const end = records.length ? records[records.length - 1].t : 0;
    rows.forEach((row, i) => { row.end = i + 1 < rows.length ? rows[i + 1].start : end; });
    this.rows = rows;
    this.draw(null);
  }

  // current: {round, step} being played, highlighted; or null.
  draw(current) {
    const rowH = 34;
    this.canvas.style.height = `${Math.max(1, this.rows.length) * rowH + 18}px`;
    const ctx = fit(this.canvas);
    const w = this.canvas.clientWidth;
    const longest = Math.max(1, ...this.rows.map((r) => r.end - r.start));
    const left = 30;
    const scale = (w - left - 4) / longest;
    ctx.font = "10px system-ui, sans-serif";
    this.rows.forEach((row, i) => {
      const y = 4 + i * rowH;
      const x1 = left + (row.end - row.start) * scale;
      if (current && current.round === row.round) {
        const span = row.recs.filter((r) => r.step === current.step);
        if (span.length) {
          const a = left + (span[0].t - row.start) * scale;
          const idx = row.recs.lastIndexOf(span[span.length - 1]);
          const endT = idx + 1 < row.recs.length ? row.recs[idx + 1].t : row.end;
          ctx.fillStyle = "rgba(231, 111, 81, 0.18)";
          ctx.fillRect(a, y - 2, (endT - span[0].t) * scale, rowH - 2);
        }
      }
      ctx.fillStyle = "rgba(51, 48, 46, 0.7)";
      ctx.fillText(`r${row.round}`, 4, y + 16);
      let prev = null;
      ctx.strokeStyle = GRID;
      for (const r of row.recs) {
        if (r.step !== prev) {
          const x = left + (r.t - row.start) * scale;
          ctx.beginPath();
          ctx.moveTo(x, y);
          ctx.lineTo(x, y + rowH - 6);
          ctx.stroke();
          prev = r.step;
        }
      }
      drawSpan(ctx, row.recs, row.start, row.end, left, y, x1 - left, rowH - 16, 5);
    });
    ctx.fillStyle = "rgba(51, 48, 46, 0.6)";
    const secs = Math.round(longest / 1000);
    ctx.fillText(`0 s`, left, this.canvas.clientHeight - 3);
    ctx.fillText(`${secs} s per round`, w - 80, this.canvas.clientHeight - 3);
  }
}

// Minutes of massage per day ({"YYYY-MM-DD": minutes}) over the last `days` days, as bars,
// with the guide's minute a day as a line (as `massager history --plot` draws it).
export function drawDays(canvas, perDay, days = 28) {
  const ctx = fit(canvas);
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  const top = Math.max(2, ...Object.values(perDay));
  const x0 = 28;
  const bw = (w - x0) / days;
  const y = (m) => h - 16 - (m / top) * (h - 24);
  ctx.font = "10px system-ui, sans-serif";
  ctx.fillStyle = INK;
  ctx.fillText(`${top.toFixed(0)} min`, 0, 10);
  const today = new Date();
  for (let k = 0; k < days; k++) {
    const day = new Date(today.getFullYear(), today.getMonth(), today.getDate() - (days - 1 - k));
    const key = `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, "0")}-` +
      `${String(day.getDate()).padStart(2, "0")}`;
    const m = perDay[key] || 0;
    ctx.fillStyle = "#2a9d8f";
    ctx.fillRect(x0 + k * bw + 1, y(m), bw - 2, h - 16 - y(m));
    if (k % 7 === days % 7) {
      ctx.fillStyle = INK;
      ctx.fillText(key.slice(5), x0 + k * bw, h - 4);
    }
  }
  ctx.strokeStyle = "#e76f51";
  ctx.setLineDash([4, 3]);
  ctx.beginPath();
  ctx.moveTo(x0, y(1));
  ctx.lineTo(w, y(1));
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.strokeStyle = GRID;
  ctx.strokeRect(x0, 8, w - x0, h - 24);
}
