"""The web layer: one Blueprint per URL family. Views parse the request, call the core, render."""
