"""The province's view: report lists and filters, KPIs, the heatmap, exports."""
