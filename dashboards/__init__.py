"""Grafana dashboards as code: generated from Python into JSON under
`dashboards/grafana/`, provisioned by Grafana from files or published through
its HTTP API (`dashboards/README.md`)."""
