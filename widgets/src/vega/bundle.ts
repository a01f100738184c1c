// Vega, Vega-Lite and vega-embed in one ES module, for annolab's Altair renderer
// (annolab/dashboards/_render.py): it travels inside each chart's HTML, so charts draw with no
// network, in JupyterLab, Notebook 7 and exported HTML alike. Not a widget: it has no index.ts.
export { default as embed, version as embedVersion } from "vega-embed";
export { version as vegaVersion } from "vega";
export { version as vegaLiteVersion } from "vega-lite";
