import { useEffect, useState } from "react";

/**
 * "The first chart of this page load is drawn": what a run page waits for before rendering the sections
 * below its charts (and making their requests), so the chart, what the user came for, draws first.
 */
let drawn = false;
const waiting = new Set<() => void>();

/** Called by each chart's draw until one has drawn data; marks `keel:chart:first-draw` (what bench:ui times). */
export function firstChartDrawn(): void {
  if (drawn) return;
  drawn = true;
  performance.mark("keel:chart:first-draw");
  for (const l of waiting) l();
  waiting.clear();
}

export function isFirstChartDrawn(): boolean {
  return drawn;
}

/**
 * True once the first chart is drawn, or `maxWaitMs` after mount, or as soon as the page knows it has no
 * charts (`hasCharts` false; undefined while it does not know yet).
 */
export function useAfterFirstChart(hasCharts: boolean | undefined, maxWaitMs = 400): boolean {
  const [ready, setReady] = useState(drawn || hasCharts === false);
  useEffect(() => {
    if (ready) return;
    if (hasCharts === false) {
      setReady(true);
      return;
    }
    const go = () => setReady(true);
    waiting.add(go);
    const timer = setTimeout(go, maxWaitMs);
    return () => {
      waiting.delete(go);
      clearTimeout(timer);
    };
  }, [ready, hasCharts, maxWaitMs]);
  return ready;
}
