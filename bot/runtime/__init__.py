"""One running process: app factory, wiring, serving, the HTTP edge, logs, metrics, loops."""
