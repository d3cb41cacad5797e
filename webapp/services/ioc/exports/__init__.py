"""CSV and Excel exports of report lists and KPI tables, and the weekly summary.

- `writers`: formats, the streamed CSV and write-only workbook writers, formula-safe cells
- `lists`: report lists as exported (never the resident's identity nor internal notes)
- `kpi`: KPI tables per period and dimension
- `weekly`: the leadership's weekly workbook and its Monday e-mail
- `jobs`: a list at once or in the background (ExportJob), its download, and the purge
"""
