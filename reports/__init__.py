"""Compliance reports for inspectors and quality managers: the cold-chain
temperature log, the excursion report, the UV lamp intensity register and
the work-order SLA report, as CSV and PDF (see reports/README.md).

Pure builders (`cold_chain`, `excursions`, `uv`, `sla`, `model`) turn data
into rows; `readings` reads InfluxDB, `catalog` joins them with the alert
store, `render` writes CSV and PDF; `cli` is `vigil report`."""
