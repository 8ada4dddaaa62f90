"""One thin module per resource; each exposes `router`."""
