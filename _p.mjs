import { readFileSync } from "node:fs";
const p = JSON.parse(readFileSync(process.argv[2], "utf8"));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = p.timeDeltas; const total = dt.reduce((a, b) => a + b, 0);
p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + dt[i]));
// self time by function
const fn = new Map();
for (const [id, t] of self) { const n = byId.get(id); const k = `${n.callFrame.functionName || "(anon)"} ${n.callFrame.url.split("/").slice(-2).join("/")}:${n.callFrame.lineNumber}`; fn.set(k, (fn.get(k) ?? 0) + t); }
console.log("total ms", (total / 1000).toFixed(0));
for (const [k, t] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, 35)) console.log((100 * t / total).toFixed(1).padStart(5), k);
