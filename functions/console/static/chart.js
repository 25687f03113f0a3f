// A time-series chart (uPlot, vendored) with a text summary for screen readers and a legend.
import { html, useEffect, useRef } from "./lib.js";

const COLOURS = ["#0b57d0", "#b3261e", "#146c2e", "#7c4dff"];

function options(width, series, unit) {
  return {
    width,
    height: 260,
    legend: { show: false },
    scales: { x: { time: true } },
    axes: [
      { stroke: "#333", grid: { stroke: "#e3e3e3" } },
      { stroke: "#333", grid: { stroke: "#e3e3e3" }, label: unit || undefined, size: 60 },
    ],
    series: [
      {},
      ...series.map((label, i) => ({
        label, stroke: COLOURS[i % COLOURS.length], width: 2,
        points: { show: true, size: 4 }, spanGaps: false,
      })),
    ],
  };
}

/** `data` is uPlot's [xs (seconds), ys...]; `series` the labels of the ys; `summary` says in
 * words what the chart shows (its accessible name and caption). */
export function Chart({ data, series, unit, summary }) {
  const box = useRef(null);
  const plot = useRef(null);
  const key = series.join("|");
  useEffect(() => {
    const element = box.current;
    if (!window.uPlot || !element) return undefined;
    const chart = new window.uPlot(options(element.clientWidth || 600, series, unit), data, element);
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: element.clientWidth || 600, height: 260 }));
    resize.observe(element);
    return () => { resize.disconnect(); chart.destroy(); plot.current = null; };
  }, [key, unit]);
  useEffect(() => { if (plot.current) plot.current.setData(data); }, [data]);
  return html`<figure class="chart">
    ${window.uPlot ? html`<div class="plot" ref=${box} role="img" aria-label=${summary}></div>`
      : html`<p class="error">The chart library did not load; the table below has the data.</p>`}
    <figcaption>
      <span class="legend">${series.map((label, i) => html`<span class=${`swatch s${i}`}>${label}</span> `)}</span>
      <span class="summary">${summary}</span>
    </figcaption>
  </figure>`;
}
